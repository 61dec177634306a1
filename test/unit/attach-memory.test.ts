// attach's memory against a malicious server (a real node:http server on 127.0.0.1): an endless
// SSE line, and one event of endless data lines. attach must give up with exit 65 naming the
// limit while its peak RSS (ru_maxrss, from /usr/bin/time -v) stays under ATTACH_RSS_BOUND,
// the bound docs/protocol.md states. The server stops at SEND_CAP, so a client without limits
// ends the test too (killed, far over the bound) instead of running forever.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeWithTools } from "../helpers/tools.js";
import { cleanup, makeBundles, type Bundles } from "./health-server-harness.js";

/** docs/protocol.md, "Limits": attach's peak RSS whatever the server sends. */
const ATTACH_RSS_BOUND_KIB = 160 * 1024;
const SEND_CAP = 512 * 1024 * 1024;
const PIECE = 64 * 1024;

let b: Bundles;
beforeAll(async () => {
  b = await makeBundles();
});
afterAll(() => cleanup(b.dir));

/** Writes `head`, then `piece()` until the client goes or SEND_CAP bytes went, minding backpressure. */
async function flood(res: ServerResponse, head: string, piece: () => string, sent: { n: number }) {
  res.writeHead(200, { "Content-Type": "text/event-stream" });
  res.write(head);
  let gone = false;
  res.on("close", () => (gone = true));
  while (!gone && sent.n < SEND_CAP) {
    const chunk = piece();
    sent.n += chunk.length;
    if (!res.write(chunk)) await new Promise((r) => res.once("drain", r).once("close", r));
  }
  res.end();
}

async function serve(head: string, piece: () => string) {
  const sent = { n: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith("/bytes/")) return void res.writeHead(404).end(); // SSE only
    void flood(res, head, piece, sent);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, sent, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Runs attach under /usr/bin/time -v; kills it once the server has sent SEND_CAP. */
async function attachUnderTime(url: string, sent: { n: number }) {
  const tokenFile = `${b.dir}/token`;
  const { writeFile } = await import("node:fs/promises");
  await writeFile(tokenFile, "tok\n");
  const argv = [process.execPath, ...b.cli, "attach", "--url", url, "--token-file", tokenFile, "a1"];
  const time = spawn("/usr/bin/time", ["-v", ...argv], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  time.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const guard = setInterval(() => {
    if (sent.n < SEND_CAP) return;
    void readFile(`/proc/${time.pid}/task/${time.pid}/children`, "utf8")
      .then((pids) => pids.trim() && process.kill(Number(pids.trim().split(" ")[0]), "SIGKILL"))
      .catch(() => undefined);
  }, 100);
  await new Promise((r) => time.on("close", r));
  clearInterval(guard);
  const rssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1]);
  const status = Number(/Exit status: (\d+)/.exec(err)?.[1] ?? NaN);
  return { rssKiB, status, err };
}

describeWithTools(["/usr/bin/time"])("attach against a flooding server", () => {
  test.each([
    ["an endless line", "event: data\ndata: ", () => "A".repeat(PIECE), /line longer than 1048576 bytes/],
    [
      "an endless event",
      "event: data\n",
      () => `data: ${"B".repeat(PIECE - 7)}\n`,
      /event longer than 2097152 bytes/,
    ],
  ])(
    "%s: exit 65 naming the limit, RSS under the bound",
    { timeout: 120_000 },
    async (_what, head, piece, limit) => {
      const { server, sent, url } = await serve(head, piece);
      try {
        const r = await attachUnderTime(url, sent);
        console.log(
          `${_what}: peak RSS ${Math.round(r.rssKiB / 1024)} MiB, server sent ${Math.round(sent.n / 1024)} KiB`,
        );
        expect(r.err).toMatch(limit);
        expect(r.status).toBe(65);
        expect(r.rssKiB).toBeLessThan(ATTACH_RSS_BOUND_KIB);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
  );
});

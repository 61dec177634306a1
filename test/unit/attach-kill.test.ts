// The resume guarantee under fire: a writer appends 1,000,000 lines while the health server
// is SIGKILLed and restarted 10 times; the real attach client's output must equal the file.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  cleanup,
  collect,
  kill,
  makeBundles,
  makeInbox,
  startAttach,
  startServer,
  waitFor,
  type Bundles,
  type Server,
} from "./health-server-harness.js";

let b: Bundles;
beforeAll(async () => {
  b = await makeBundles();
});
afterAll(() => cleanup(b.dir));

// Appends `lines` lines in batches of 2,000; some carry a multi-byte char or a bare CR.
const WRITER = `
const fs = require("node:fs");
const [file, lines] = [process.argv[1], Number(process.argv[2])];
const fd = fs.openSync(file, "a");
let i = 0;
function batch() {
  let s = "";
  for (let k = 0; k < 2000 && i < lines; k++, i++) s += "line " + i + (i % 7 === 0 ? " é—\\r" : " ") + "x".repeat(i % 40) + "\\n";
  fs.writeSync(fd, s);
  if (i < lines) setTimeout(batch, 4); else fs.closeSync(fd);
}
batch();
`;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

test(
  "1,000,000 lines through 10 server SIGKILLs: output is byte-identical",
  { timeout: 180_000 },
  async () => {
    const { inbox, runDir } = await makeInbox(b.dir);
    const log = join(runDir, "stdout.log");
    let server: Server = await startServer(b, inbox);
    const port = server.port;
    const client = startAttach(b, server.url, ["a1"]);
    const out = collect(client);
    let clientErr = "";
    client.stderr?.on("data", (d: Buffer) => (clientErr += d.toString()));
    const writer = spawn(process.execPath, ["-e", WRITER, log, "1000000"], { stdio: "inherit" });
    const writerDone = new Promise<number | null>((r) => writer.on("exit", r));
    try {
      for (let k = 0; k < 10; k++) {
        await new Promise((r) => setTimeout(r, 300 + k * 40));
        await kill(server.proc);
        server = await startServer(b, inbox, port);
      }
      expect(await writerDone).toBe(0);
      const file = await readFile(log);
      expect(file.toString().split("\n").length - 1).toBe(1_000_000);
      await waitFor(
        () => out.size() >= file.length,
        90_000,
        () => `client output to reach ${file.length} bytes (has ${out.size()})`,
      );
      await new Promise((r) => setTimeout(r, 300)); // anything extra (a repeat) would arrive now
      expect(out.size()).toBe(file.length);
      expect(sha(out.bytes())).toBe(sha(file));
      expect(client.exitCode).toBeNull(); // still following, never gave up
    } finally {
      await kill(client);
      await kill(server.proc);
      await kill(writer);
    }
    expect(clientErr).not.toMatch(/agentshare: (?!.*new run)/);
  },
);

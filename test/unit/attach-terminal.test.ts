// attach on a terminal: a hostile guest's OSC 52, title, clear-screen and DCS sequences and a
// hostile server's run name are shown escaped, not obeyed; SGR colours pass; --raw and pipes
// pass everything. The sink directly, then the real CLI on a real pty (util-linux `script`)
// against a real malicious SSE server on 127.0.0.1.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSink } from "../../src/cli/attach-output.js";
import { publicEvent } from "../../src/api/attach-events.js";
import { encodeEvent, type StreamEvent } from "../../src/core/sse.js";
import { describeWithTools } from "../helpers/tools.js";
import { cleanup, makeBundles, TOKEN, type Bundles } from "./health-server-harness.js";

const RUN = "run-20260101-000000";
const E = "\x1b";
const HOSTILE = `hi ${E}]52;c;cm0gLXJmIH4K\x07${E}]0;owned${E}\\${E}[2J${E}P$q"p${E}\\${E}[32mgreen${E}[0m\n`;
const RUN_NAME = `x${E}]0;title${E}\\`;

const sinkText = (terminal: boolean, events: StreamEvent[]) => {
  const out = new PassThrough();
  const err = new PassThrough();
  const sink = createSink({ label: "a1", json: false, terminal, color: terminal, out, err });
  for (const ev of events) {
    const pub = publicEvent(ev); // what the API's attach hands the CLI
    if (pub) sink.onEvent(pub);
  }
  sink.end();
  return { out: String(out.read() ?? ""), err: String(err.read() ?? "") };
};

// two chunks, the OSC split in the middle: the filter's state carries over
const half = Math.floor(HOSTILE.length / 2) - 20;
const EVENTS: StreamEvent[] = [
  { type: "data", id: `${RUN}:5.1`, s: "stdout", bytes: Buffer.from(HOSTILE.slice(0, half)) },
  { type: "data", id: `${RUN}:5.2`, s: "stdout", bytes: Buffer.from(HOSTILE.slice(half)) },
  { type: "run", id: `${RUN}:5.2`, run: RUN_NAME, prev: RUN },
];

/** No control byte but TAB/CR/LF, outside whole SGR sequences. */
const controlsBesidesSgr = (s: string) =>
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  s.replace(/\x1b\[[0-9;]*m/g, "").match(/[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/g) ?? [];

describe("the sink", () => {
  test("terminal: escapes shown, colours kept, the run name escaped", () => {
    const { out, err } = sinkText(true, EVENTS);
    expect(controlsBesidesSgr(out)).toEqual([]);
    expect(out).toContain("\\x1b]52;c;cm0gLXJmIH4K\\x07");
    expect(out).toContain(`${E}[32mgreen${E}[0m`);
    expect(controlsBesidesSgr(err)).toEqual([]);
    expect(err).toContain("new run x\\x1b]0;title\\x1b\\");
  });

  test("not a terminal: the bytes exactly as the guest wrote them", () => {
    expect(sinkText(false, EVENTS).out).toBe(HOSTILE);
  });
});

describeWithTools(["script"])("the CLI on a pty", () => {
  let b: Bundles;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    b = await makeBundles();
    server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(encodeEvent({ type: "hello", agent: "a1", stream: "stdout", run: RUN, pingMs: 15_000 }));
      for (const ev of EVENTS) res.write(encodeEvent(ev));
      res.end(encodeEvent({ type: "end" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await cleanup(b.dir);
  });

  /** Runs attach under `script`, so its stdout and stderr are a terminal; returns what the pty got. */
  const onPty = async (extra: string[]) => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${b.dir}/token`, `${TOKEN}\n`);
    const argv = [process.execPath, ...b.cli, "attach", "--url", url, "--token-file", `${b.dir}/token`];
    const cmd = [...argv, "a1", "--no-follow", ...extra].map((a) => `'${a}'`).join(" ");
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    return { code, out };
  };

  test("the guest's sequences are shown, not sent to the terminal", async () => {
    const { code, out } = await onPty([]);
    expect(code).toBe(0);
    expect(controlsBesidesSgr(out)).toEqual([]);
    expect(out).toContain("\\x1b]52;c;cm0gLXJmIH4K\\x07");
    expect(out).toContain("\\x1b[2J");
    expect(out).toContain(`${E}[32mgreen`);
    expect(out).toContain("new run x\\x1b]0;title\\x1b\\");
  });

  test("--raw passes them through", async () => {
    const { code, out } = await onPty(["--raw"]);
    expect(code).toBe(0);
    expect(out).toContain(`${E}]52;c;cm0gLXJmIH4K\x07`);
  });
});

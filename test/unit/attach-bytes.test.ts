// The real attach CLI against the real server on awkward bytes and file events: bare CR,
// invalid UTF-8, a multi-byte char split across writes, a 1 MiB line, a last line without
// newline, truncation, rotation, a new run mid-stream, --tail/--from/--no-follow, -c --json.
import type { ChildProcess } from "node:child_process";
import { appendFile, readFile, rename, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import {
  cleanup,
  collect,
  kill,
  makeBundles,
  makeInbox,
  newRun,
  startAttach,
  startServer,
  waitFor,
  type Bundles,
  type Server,
} from "./health-server-harness.js";

let b: Bundles;
const running: ChildProcess[] = [];
beforeAll(async () => {
  b = await makeBundles();
});
afterEach(async () => {
  for (const p of running.splice(0)) await kill(p);
});
afterAll(() => cleanup(b.dir));

async function setup(extra: string[] = []) {
  const { inbox, runDir } = await makeInbox(b.dir);
  const srv: Server = await startServer(b, inbox, 0, ["--flush-ms", "100", ...extra]);
  running.push(srv.proc);
  return { inbox, runDir, srv };
}

function attach(srv: Server, args: string[]) {
  const p = startAttach(b, srv.url, args);
  running.push(p);
  let err = "";
  p.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => p.on("exit", r));
  return { p, out: collect(p), err: () => err, exited };
}

const hex = (x: Buffer) => x.toString("hex");
const until = (out: { bytes: () => Buffer }, want: Buffer, what: string) =>
  waitFor(
    () => out.bytes().equals(want),
    15_000,
    () => `${what}: have ${out.bytes().length} of ${want.length} bytes`,
  );

test("awkward bytes arrive byte-exact, including a last line without newline", async () => {
  const { runDir, srv } = await setup();
  const log = join(runDir, "stdout.log");
  const a = attach(srv, ["a1"]);
  const euro = Buffer.from("€");
  const bigLine = Buffer.from(`${"ab€".repeat(200_000)}\n`); // 1 MiB, multi-byte chars across chunk edges
  const parts = [
    Buffer.from("progress 10%\r20%\r100%\r\n"),
    Buffer.from([0x66, 0xff, 0xfe, 0xc0, 0x0a]), // invalid UTF-8
    Buffer.concat([Buffer.from("price "), euro.subarray(0, 2)]), // split character, waits > flush time
    Buffer.concat([euro.subarray(2), Buffer.from("\n\0nul\r\n")]),
    bigLine,
    Buffer.from("no newline at the end"),
  ];
  let file = Buffer.alloc(0);
  for (const part of parts) {
    await appendFile(log, part);
    file = Buffer.concat([file, part]);
    await until(a.out, file, "follow");
  }
  expect(hex(a.out.bytes())).toBe(hex(await readFile(log)));
  const once = attach(srv, ["a1", "--no-follow"]);
  expect(await once.exited).toBe(0);
  expect(hex(once.out.bytes())).toBe(hex(file));
});

test("truncation and rotation mid-stream", async () => {
  const { runDir, srv } = await setup();
  const log = join(runDir, "stdout.log");
  const a = attach(srv, ["a1"]); // before the file exists
  await new Promise((r) => setTimeout(r, 300));
  await writeFile(log, "first generation, a long line\n");
  let want = Buffer.from("first generation, a long line\n");
  await until(a.out, want, "first");
  await truncate(log, 0);
  await waitFor(() => a.err().includes("truncated"), 5_000, "the truncate notice");
  await appendFile(log, "after truncate\n");
  want = Buffer.concat([want, Buffer.from("after truncate\n")]);
  await until(a.out, want, "after truncate");
  await appendFile(log, "last words before rotation\n");
  await rename(log, `${log}.1`);
  await writeFile(log, "new file\n");
  want = Buffer.concat([want, Buffer.from("last words before rotation\nnew file\n")]);
  await until(a.out, want, "after rotation");
  expect(a.err()).toContain("rotated");
});

test("a new run mid-stream: the old run's last bytes, then the new run from its start", async () => {
  const { inbox, runDir, srv } = await setup();
  const a = attach(srv, ["a1", "stderr"]);
  await writeFile(join(runDir, "stderr.log"), "run 1 line 1\n");
  await until(a.out, Buffer.from("run 1 line 1\n"), "run 1");
  await appendFile(join(runDir, "stderr.log"), "run 1 last line\n");
  const run2 = await newRun(inbox, "run-20260101-000001");
  await writeFile(join(run2, "stderr.log"), "run 2 line 1\n");
  await until(a.out, Buffer.from("run 1 line 1\nrun 1 last line\nrun 2 line 1\n"), "run 2");
  expect(a.err()).toContain("new run run-20260101-000001");
});

test("--tail, --from end, and -c --json reproduce each stream", async () => {
  const { runDir, srv } = await setup();
  await writeFile(join(runDir, "stdout.log"), "o1\no2\no3\n");
  await writeFile(join(runDir, "stderr.log"), Buffer.from([0x65, 0xff, 0x0a]));
  const tail = attach(srv, ["a1", "--tail", "2", "--no-follow"]);
  expect(await tail.exited).toBe(0);
  expect(tail.out.bytes().toString()).toBe("o2\no3\n");
  // --json shows when the server has positioned the stream (its `run` event): append only then
  const end = attach(srv, ["--json", "a1", "--from", "end"]);
  const endText = () => end.out.bytes().toString();
  await waitFor(() => endText().includes('"event":"run"'), 15_000, "the from-end stream's run event");
  await appendFile(join(runDir, "stdout.log"), "o4\n");
  await waitFor(
    () => endText().includes('"text":"o4\\n"'),
    15_000,
    () => `o4 from end: ${endText()}`,
  );
  const endData = endText()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; text?: string })
    .filter((e) => e.event === "data");
  expect(endData.map((e) => e.text)).toEqual(["o4\n"]);
  const json = attach(srv, ["--json", "a1", "-c", "--no-follow"]);
  expect(await json.exited).toBe(0);
  const events = json.out
    .bytes()
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; stream?: string; text?: string; base64?: string });
  const bytesOf = (s: string) =>
    Buffer.concat(
      events
        .filter((e) => e.event === "data" && e.stream === s)
        .map((e) => (e.text !== undefined ? Buffer.from(e.text) : Buffer.from(e.base64 ?? "", "base64"))),
    );
  expect(bytesOf("stdout").toString()).toBe("o1\no2\no3\no4\n");
  expect(hex(bytesOf("stderr"))).toBe("65ff0a");
  expect(events.at(-1)?.event).toBe("end");
});

test("the CLI names bad input and a refused token", async () => {
  const { srv } = await setup();
  const bad = attach(srv, ["a1", "--tail", "x"]);
  expect(await bad.exited).toBe(64);
  expect(bad.err()).toContain("--tail must be");
  const both = attach(srv, ["a1", "-c", "stderr"]);
  expect(await both.exited).toBe(64);
  await writeFile(join(b.dir, "wrong-token"), "wrong-token-0123456789\n");
  const denied = startAttachWithToken(srv, join(b.dir, "wrong-token"));
  expect(await denied.exited).toBe(69);
  expect(denied.err()).toContain("refused the token (HTTP 401)");
});

function startAttachWithToken(srv: Server, tokenFile: string) {
  const p = startAttach(b, srv.url, ["a1", "--token-file", tokenFile]); // the later --token-file wins
  running.push(p);
  let err = "";
  p.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  return { err: () => err, exited: new Promise<number | null>((r) => p.on("exit", r)) };
}

test("a finished run's end is reported once: exit code, and loudly when its output did not persist", async () => {
  const { runDir, srv } = await setup();
  await appendFile(join(runDir, "stdout.log"), "partial\n");
  const a = attach(srv, ["a1"]); // following: no exit notice while the run has no metrics.json
  await until(a.out, Buffer.from("partial\n"), "follow");
  expect(a.err()).not.toMatch(/ended/);
  const metrics = {
    run_id: "run-20250101-000000",
    exit_code: 0,
    persisted: false,
    persist_errors: ["stdout.log: No space left on device after 8 bytes", "\u001b]52;c;evil\u0007"],
  };
  await writeFile(join(runDir, "metrics.json"), JSON.stringify(metrics));
  await waitFor(
    () => /did NOT persist/.test(a.err()),
    15_000,
    () => `stderr: ${a.err()}`,
  );
  expect(a.err()).toMatch(
    /run run-\S+ ended, exit code 0, but its output did NOT persist: stdout\.log: No space left/,
  );
  expect(a.err()).not.toContain("\u001b]52"); // the guest-written error is escaped
  const json = attach(srv, ["--json", "a1", "--no-follow"]);
  expect(await json.exited).toBe(0);
  const exits = json.out
    .bytes()
    .toString()
    .split("\n")
    .filter((l) => l.includes('"event":"exit"'));
  expect(exits).toHaveLength(1);
  expect(JSON.parse(exits[0]!)).toMatchObject({ event: "exit", exitCode: 0, persisted: false });
  expect(a.err().match(/ended, exit code/g)).toHaveLength(1); // once per run per connection
});

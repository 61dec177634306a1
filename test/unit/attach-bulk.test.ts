// The attach op's bulk catch-up (/bytes/<stream>) against the real bundled server: handing
// over from bulk to the SSE stream mid-line with nothing lost or repeated, and a server
// SIGKILL in the middle of a bulk body.
import { randomBytes } from "node:crypto";
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { advanceId, decodeId, type StreamEvent } from "../../src/core/sse.js";
import { attach } from "../../src/ops/attach.js";
import { BULK_MIN_BYTES } from "../../src/ops/attach-bulk.js";
import {
  cleanup,
  kill,
  makeBundles,
  makeInbox,
  startServer,
  TOKEN,
  waitFor,
  type Bundles,
  type Server,
} from "./health-server-harness.js";

const RUN = "run-20260101-000000";
let b: Bundles;
const servers: Server[] = [];
beforeAll(async () => {
  b = await makeBundles();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await kill(s.proc);
});
afterAll(() => cleanup(b.dir));

async function setup() {
  const { inbox, runDir } = await makeInbox(b.dir, RUN);
  const srv = await startServer(b, inbox);
  servers.push(srv);
  return { inbox, runDir, srv, log: join(runDir, "stdout.log") };
}

/** Lines of random hex, ending in a partial line: bulk stops mid-line. */
const logText = (n: number) => Buffer.from(`${randomBytes(n / 2).toString("hex")}\n`.repeat(4) + "partial");

/** Runs the op with bulk on, collecting the bytes and the order of events. */
function follow(srv: Server, onData?: (got: number) => void) {
  const ac = new AbortController();
  const events: StreamEvent[] = [];
  const parts: Buffer[] = [];
  let got = 0;
  const done = attach({
    target: { url: srv.url, token: TOKEN },
    stream: "stdout",
    from: "start",
    follow: true,
    bulk: true,
    minBackoffMs: 20,
    signal: ac.signal,
    onEvent: (ev) => {
      events.push(ev.type === "data" ? { ...ev, bytes: Buffer.alloc(0) } : ev);
      if (ev.type !== "data") return;
      parts.push(Buffer.from(ev.bytes));
      got += ev.bytes.length;
      onData?.(got);
    },
  });
  const out = () => Buffer.concat(parts);
  return { ac, done, events, out, got: () => got };
}

/** Bytes delivered before the first SSE `hello`: what came through bulk. */
function bulkBytes(events: StreamEvent[]): number {
  const hello = events.findIndex((e) => e.type === "hello");
  const last = events.slice(0, hello).findLast((e) => e.type === "data");
  return last && "id" in last ? (decodeId(last.id)?.pos[0]?.off ?? 0) : 0;
}

test("bulk catch-up hands over to the SSE stream mid-line: nothing lost or repeated", async () => {
  const { srv, log } = await setup();
  const text = logText(2 * BULK_MIN_BYTES);
  await writeFile(log, text);
  const f = follow(srv);
  await waitFor(() => f.events.some((e) => e.type === "hello"), 10_000, "the SSE stream");
  expect(bulkBytes(f.events)).toBe(text.length); // all of it in bulk, up to the partial line
  const more = Buffer.from(" line\nand more\n");
  await appendFile(log, more);
  const all = Buffer.concat([text, more]);
  await waitFor(
    () => f.got() >= all.length,
    10_000,
    () => `${all.length} bytes (have ${f.got()})`,
  );
  await new Promise((r) => setTimeout(r, 200));
  f.ac.abort();
  const r = await f.done;
  expect(f.out().equals(all)).toBe(true);
  const first = f.events[0];
  expect(first).toMatchObject({ type: "run", run: RUN, prev: null, id: expect.stringMatching(/\.0$/) });
  expect(r.lastId).toBe(advanceId(decodeId((first as { id: string }).id)!, all.length));
});

test("a server SIGKILL in the middle of a bulk body: resumed in bulk, byte-identical", async () => {
  const { inbox, srv, log } = await setup();
  const text = logText(32 * BULK_MIN_BYTES);
  await writeFile(log, text);
  let current = srv;
  let killedAt = -1;
  const gone = new Promise((r) => srv.proc.once("exit", r));
  const f = follow(srv, (got) => {
    if (killedAt >= 0 || got < 4 * BULK_MIN_BYTES) return;
    killedAt = got;
    current.proc.kill("SIGKILL");
  });
  await waitFor(() => killedAt >= 0, 20_000, "the kill");
  await gone;
  current = await startServer(b, inbox, srv.port);
  servers.push(current);
  await waitFor(
    () => f.got() >= text.length,
    30_000,
    () => `${text.length} bytes (have ${f.got()})`,
  );
  await new Promise((r) => setTimeout(r, 200));
  f.ac.abort();
  const r = await f.done;
  expect(killedAt).toBeLessThan(text.length / 2);
  expect(r.reconnects).toBeGreaterThan(0);
  expect(f.out().equals(text)).toBe(true);
  expect(bulkBytes(f.events)).toBe(text.length); // resumed through bulk, not the SSE stream
  expect(f.events.filter((e) => e.type === "run")).toHaveLength(1);
});

// The attach op against malicious servers (real node:http servers on 127.0.0.1): `retry: 0` and
// instant closes, a ping interval past setTimeout's range, --no-follow with a server that never
// ends, abort listeners left behind; and the SSE size guard on its own.
import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { SseSizeGuard } from "../../src/core/sse-limits.js";
import { encodeEvent, type StreamEvent } from "../../src/core/sse.js";
import { ToolError } from "../../src/errors.js";
import { attach } from "../../src/ops/attach.js";
import { backoffMs, clampMs, NO_FOLLOW_ATTEMPTS } from "../../src/ops/attach-retry.js";

const RUN = "run-20260101-000000";
const hello = (pingMs: number): StreamEvent => ({
  type: "hello",
  agent: "a",
  stream: "stdout",
  run: RUN,
  pingMs,
});
let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** Serves `handler`; returns the URL and a counter of requests. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen = { n: 0 };
  server = createServer((req, res) => {
    seen.n++;
    handler(req, res);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const sseHead = (res: ServerResponse) => res.writeHead(200, { "Content-Type": "text/event-stream" });
const opts = (url: string, signal?: AbortSignal) => ({
  target: { url, token: "tok" },
  stream: "stdout" as const,
  from: "start" as const,
  follow: true,
  onEvent: () => undefined,
  signal,
});

/** Follows for `ms`, then aborts; returns how many connections the server saw. */
async function connectionsWithin(ms: number, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const { url, seen } = await serve(handler);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const r = await attach(opts(url, ac.signal));
  clearTimeout(timer);
  expect(r.ended).toBe("aborted");
  expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  return seen.n;
}

describe("reconnect rate", () => {
  test("`retry: 0`, a hello, then close: backs off (a handful of connections in 2 s, not ~20)", async () => {
    const n = await connectionsWithin(2000, (_req, res) => {
      sseHead(res);
      res.end(`retry: 0\n\n${encodeEvent(hello(15_000))}`);
    });
    // 250 ms doubling with up to +50% jitter: attempts at 0, ≥0.25, ≥0.75, ≥1.75 s
    expect(n).toBeLessThanOrEqual(5);
  });

  test.each(["1e12", "1e400", "-5"])(
    "a ping interval of %s does not overflow the watchdog",
    async (pingMs) => {
      const n = await connectionsWithin(1500, (_req, res) => {
        sseHead(res);
        // JSON.stringify(1e400) is null: write the number ourselves, as a hostile server would
        res.write(
          `event: hello\ndata: {"agent":"a","stream":"stdout","run":"${RUN}","pingMs":${pingMs}}\n\n`,
        );
      });
      expect(n).toBe(1); // the watchdog is 2 × clamped ping + 2 s: no reconnect here
    },
  );

  test("abort listeners of the reconnect sleep are removed", async () => {
    let n = 0;
    const { url } = await serve((_req, res) => {
      if (n++ < 3) return void res.writeHead(503).end();
      sseHead(res);
      res.end(encodeEvent({ type: "end" }));
    });
    const ac = new AbortController();
    const r = await attach({ ...opts(url, ac.signal), follow: false, minBackoffMs: 5 });
    expect(r).toMatchObject({ ended: "end", reconnects: 3 });
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  test("backoff: exponential from the minimum, jittered upwards, capped; timers clamped", () => {
    expect([0, 1, 2, 3, 10].map((f) => backoffMs(f, 250, 5000, () => 0))).toEqual([
      250, 500, 1000, 2000, 5000,
    ]);
    expect(backoffMs(0, 250, 5000, () => 0.999)).toBe(375);
    expect(backoffMs(1e9, 250, 5000, () => 0)).toBe(5000);
    expect(clampMs(Infinity, 100, 600_000)).toBe(600_000);
    expect(clampMs(Number.NaN, 100, 600_000)).toBe(600_000);
    expect(clampMs(-1, 100, 600_000)).toBe(100);
  });
});

describe("--no-follow ends even when the server does not", () => {
  test("hello, then pings forever: a ToolError after the idle period", async () => {
    const { url } = await serve((_req, res) => {
      sseHead(res);
      res.write(encodeEvent(hello(50)));
      const t = setInterval(() => res.write(encodeEvent({ type: "ping" })), 20);
      res.on("close", () => clearInterval(t));
    });
    await expect(attach({ ...opts(url), follow: false, noFollowIdleMs: 300 })).rejects.toThrow(
      /sent nothing for 300 ms and no end event/,
    );
  });

  test("hello and close, again and again: gives up after a few attempts", async () => {
    const { url, seen } = await serve((_req, res) => {
      sseHead(res);
      res.end(encodeEvent(hello(15_000)));
    });
    const run = attach({ ...opts(url), follow: false, minBackoffMs: 5, maxBackoffMs: 20 });
    await expect(run).rejects.toThrow(ToolError);
    await expect(run).rejects.toThrow(/dropped 5 connections in a row/);
    expect(seen.n).toBe(NO_FOLLOW_ATTEMPTS);
  });
});

describe("SseSizeGuard", () => {
  const feed = (g: SseSizeGuard, ...parts: string[]) => parts.map((p) => g.feed(Buffer.from(p)));

  test("counts lines across chunks, CR, LF and CRLF; an empty line ends the event", () => {
    const g = new SseSizeGuard(10, 20);
    expect(feed(g, "data: 123", "\r", "\n", "data: 1234\r\r")).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(feed(g, "0123456789", "\n\n", "0123456789\n0123456789\n")).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(g.feed(Buffer.from("x"))).toMatch(/SSE event longer than 20 bytes/);
  });

  test("a line past the limit, in one chunk or many", () => {
    expect(new SseSizeGuard(10, 100).feed(Buffer.alloc(11, 0x41))).toMatch(/SSE line longer than 10 bytes/);
    const g = new SseSizeGuard(10, 100);
    expect(feed(g, "01234", "56789")).toEqual([undefined, undefined]);
    expect(g.feed(Buffer.from("a"))).toMatch(/line limit/);
  });

  test("CRLF split across chunks is one line end, not an empty line", () => {
    const g = new SseSizeGuard(100, 12);
    expect(feed(g, "012345\r", "\n012345\r\n")).toEqual([undefined, undefined]);
    expect(g.feed(Buffer.from("x"))).toMatch(/event limit/);
  });
});

// The attach op's reconnect loop against small real HTTP servers that misbehave the ways
// eventsource alone does not survive: a silent connection (watchdog), 503, a wrong content
// type (eventsource gives up for good on both), and a permanent 401.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { encodeEvent, type StreamEvent } from "../../src/core/sse.js";
import { ToolError } from "../../src/errors.js";
import { attach, permanentError, streamUrl } from "../../src/ops/attach.js";

const RUN = "run-20260101-000000";
let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<string> {
  let n = 0;
  server = createServer((req, res) => handler(req, res, n++));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const sse = (res: ServerResponse, events: StreamEvent[]) => {
  res.writeHead(200, { "Content-Type": "text/event-stream" });
  for (const ev of events) res.write(encodeEvent(ev));
};
const data = (off: number, text: string): StreamEvent => ({
  type: "data",
  id: `${RUN}:5.${off + text.length}`,
  s: "stdout",
  bytes: Buffer.from(text),
});
const opts = (url: string, onEvent: (ev: StreamEvent) => void) => ({
  target: { url, token: "tok" },
  stream: "stdout" as const,
  from: "start" as const,
  follow: false,
  onEvent,
  minBackoffMs: 20,
});

test("silent connection, 503 and wrong content type: reconnects with the last id", async () => {
  const seen: (string | undefined)[] = [];
  const url = await serve((req, res, n) => {
    seen.push(req.headers["last-event-id"] as string | undefined);
    expect(req.headers.authorization).toBe("Bearer tok");
    if (n === 0)
      return sse(res, [{ type: "hello", agent: "a", stream: "stdout", run: RUN, pingMs: 50 }, data(0, "ab")]);
    if (n === 1) return void res.writeHead(503).end();
    if (n === 2) return void res.writeHead(200, { "Content-Type": "text/html" }).end("<html>");
    sse(res, [data(2, "cd"), { type: "end" }]);
    res.end();
  });
  let out = "";
  const r = await attach(
    opts(url, (ev) => void (ev.type === "data" && (out += Buffer.from(ev.bytes).toString()))),
  );
  expect(out).toBe("abcd");
  expect(seen).toEqual([undefined, `${RUN}:5.2`, `${RUN}:5.2`, `${RUN}:5.2`]);
  expect(r).toMatchObject({ ended: "end", reconnects: 3, lastId: `${RUN}:5.4` });
});

test("401 is permanent and says what to check", async () => {
  const url = await serve((_req, res) => void res.writeHead(401).end());
  await expect(attach(opts(url, () => undefined))).rejects.toThrow(ToolError);
  await expect(attach(opts(url, () => undefined))).rejects.toThrow(/refused the token/);
});

test("abort stops a follow; URL and status helpers", async () => {
  const url = await serve((_req, res) => sse(res, [{ type: "ping" }]));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  const r = await attach({ ...opts(url, () => undefined), follow: true, signal: ac.signal });
  expect(r.ended).toBe("aborted");
  expect(
    streamUrl({
      target: { url: "http://h:1/x", token: "" },
      stream: "combined",
      from: "end",
      tail: 5,
      follow: false,
    }),
  ).toBe("http://h:1/x/stream/combined?from=end&tail=5&follow=0");
  expect(permanentError(404, "u")?.message).toMatch(/no such stream/);
  expect(permanentError(502, "u")).toBeUndefined();
});

test("bulk: a server without /bytes (404) is followed over SSE alone; 401 on /bytes is permanent", async () => {
  const paths: string[] = [];
  const url = await serve((req, res) => {
    paths.push(req.url!.split("?")[0]!);
    if (req.url!.startsWith("/bytes/")) return void res.writeHead(404).end();
    sse(res, [data(0, "ab"), { type: "end" }]);
    res.end();
  });
  let out = "";
  const onEvent = (ev: StreamEvent) => void (ev.type === "data" && (out += Buffer.from(ev.bytes).toString()));
  const r = await attach({ ...opts(url, onEvent), bulk: true });
  expect(out).toBe("ab");
  expect(paths).toEqual(["/bytes/stdout", "/stream/stdout"]);
  expect(r.ended).toBe("end");
  server?.close();
  const refused = await serve((_req, res) => void res.writeHead(401).end());
  await expect(attach({ ...opts(refused, () => undefined), bulk: true })).rejects.toThrow(
    /refused the token/,
  );
});

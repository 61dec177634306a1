// Routing, auth and request parsing of the health server. Paths are matched exactly on the
// raw request path (no decoding, no normalisation), so only the fixed names exist.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { uptime } from "node:os";
import {
  decodeId,
  STREAM_FILES,
  STREAM_KINDS,
  streamsOf,
  type StreamKind,
  type StreamName,
} from "../core/sse.js";
import { sendBulk, type BulkStart } from "./bulk-body.js";
import { buildHealth, readMountinfo } from "./health.js";
import type { InboxHub } from "./inbox-hub.js";
import type { ServerOptions } from "./options.js";
import { listRuns } from "./runs.js";
import { StreamSession, type SessionStart } from "./stream-session.js";

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest();

/** Constant-time check of an Authorization header against the token (compares equal-length digests). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return timingSafeEqual(sha(m?.[1] ?? ""), sha(token)) && m !== null;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

type Route = "healthz" | "health" | "runs" | StreamKind | { bytes: StreamName };
const ROUTES = new Map<string, Route>([
  ["/healthz", "healthz"],
  ["/health", "health"],
  ["/runs", "runs"],
  ...STREAM_KINDS.map((k) => [`/stream/${k}`, k] as [string, Route]),
  ...Object.keys(STREAM_FILES).map((s) => [`/bytes/${s}`, { bytes: s as StreamName }] as [string, Route]),
]);

/** Parses ?from=&tail=&follow= and Last-Event-ID; a string is the 400 message. */
export function parseStreamRequest(
  kind: StreamKind,
  query: URLSearchParams,
  lastId: string | undefined,
): SessionStart | string {
  const from = query.get("from") ?? "start";
  if (from !== "start" && from !== "end") return `from must be start or end, got ${from}`;
  const tailText = query.get("tail");
  const tail = tailText === null ? undefined : Number(tailText);
  if (tail !== undefined && (!/^\d{1,7}$/.test(tailText ?? "") || tail > 1_000_000))
    return `tail must be an integer 0-1000000, got ${tailText}`;
  const follow = query.get("follow") ?? "1";
  if (follow !== "0" && follow !== "1") return `follow must be 0 or 1, got ${follow}`;
  const resume = lastId ? decodeId(lastId) : undefined;
  if (lastId && (!resume || resume.pos.length !== streamsOf(kind).length))
    return `Last-Event-ID ${JSON.stringify(lastId)} is not an id of /stream/${kind}`;
  return { kind, from, tail, follow: follow === "1", resume };
}

/** /bytes/<stream>: the stream query (follow is ignored) plus `min`, the fewest bytes worth a body. */
export function parseBulkRequest(
  s: StreamName,
  query: URLSearchParams,
  lastId: string | undefined,
): BulkStart | string {
  const start = parseStreamRequest(s, query, lastId);
  if (typeof start === "string") return start;
  const minText = query.get("min") ?? "1";
  if (!/^\d{1,15}$/.test(minText)) return `min must be a byte count, got ${minText}`;
  return { ...start, kind: s, min: Number(minText) };
}

/** The request handler: GET /healthz without auth; everything else needs the bearer token. */
export function createApp(o: ServerOptions, token: string, hub: InboxHub) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void handle(o, token, hub, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${String(err)}` });
      else res.destroy();
    });
  };
}

async function handle(
  o: ServerOptions,
  token: string,
  hub: InboxHub,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const route = ROUTES.get(q < 0 ? url : url.slice(0, q));
  if (route === "healthz" && req.method === "GET")
    return void res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
  if (!tokenMatches(req.headers.authorization, token))
    return sendJson(res, 401, { error: "missing or wrong bearer token" }, { "WWW-Authenticate": "Bearer" });
  if (!route) return sendJson(res, 404, { error: `no such endpoint: ${url.slice(0, 200)}` });
  if (req.method !== "GET")
    return sendJson(res, 405, { error: `${req.method} not allowed; use GET` }, { Allow: "GET" });
  const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  if (route === "health") return sendJson(res, 200, await buildHealth(o, await readMountinfo(), uptime()));
  if (route === "runs") {
    const limit = Math.min(Number(query.get("limit") ?? 100) || 100, 1000);
    return sendJson(res, 200, { agent: o.agent, runs: await listRuns(o.inbox, limit) });
  }
  if (route === "healthz")
    return sendJson(res, 405, { error: `${req.method} not allowed; use GET` }, { Allow: "GET" });
  const header = req.headers["last-event-id"];
  const lastId = Array.isArray(header) ? header[0] : header;
  if (typeof route === "object") {
    const bulk = parseBulkRequest(route.bytes, query, lastId);
    if (typeof bulk === "string") return sendJson(res, 400, { error: bulk });
    return sendBulk(res, o, hub, bulk);
  }
  const start = parseStreamRequest(route, query, lastId);
  if (typeof start === "string") return sendJson(res, 400, { error: start });
  await new StreamSession(res, o, hub, start).begin();
}

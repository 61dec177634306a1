// Bulk catch-up for `attach`: while the client is far behind, one stream's bytes come as a
// plain HTTP body from /bytes/<stream> (no SSE parsing, no base64 — see docs/protocol.md).
// Each chunk is handed on as a data event whose id names its last byte, so the SSE stream
// that follows (Last-Event-ID = the id reached) repeats nothing and skips nothing.
import http, { type IncomingMessage } from "node:http";
import { advanceId, BULK_ID_HEADER, decodeId, type StreamEvent, type StreamName } from "../core/sse.js";
import { DataError } from "../errors.js";

/** Below this many bytes behind, the live SSE stream is cheap enough. */
export const BULK_MIN_BYTES = 1024 * 1024;

export interface CatchUpOptions {
  /** Base URL of the health server. */
  url: string;
  token: string;
  s: StreamName;
  from: "start" | "end";
  tail?: number;
  /** The id of the last event handed on (undefined before the first). */
  lastId: () => string | undefined;
  /** Hands an event on and commits its id. */
  deliver: (ev: StreamEvent) => void;
  signal?: AbortSignal;
  /** Give up on a request without response headers, or a body without bytes, after this long. */
  headersMs: number;
  idleMs: number;
}

/** "caught-up": follow the SSE stream now; a number: an HTTP status bulk cannot get past. */
export type CatchUp = "caught-up" | "retry" | "aborted" | number;

/** The /bytes URL; from/tail only apply to a first request (the server ignores them with an id). */
export function bulkUrl(o: Pick<CatchUpOptions, "url" | "s" | "from" | "tail">): string {
  const u = new URL(`bytes/${o.s}`, o.url.endsWith("/") ? o.url : `${o.url}/`);
  u.searchParams.set("from", o.from);
  if (o.tail !== undefined) u.searchParams.set("tail", String(o.tail));
  u.searchParams.set("min", String(BULK_MIN_BYTES));
  return u.toString();
}

/** Takes bulk bodies until the server says fewer than BULK_MIN_BYTES are left (204). */
export async function catchUp(o: CatchUpOptions): Promise<CatchUp> {
  for (;;) {
    const r = await bulkOnce(o);
    if (r !== "more") return r;
  }
}

/** GET with node:http(s) (a plain body costs half the CPU it does through fetch's web streams). */
async function get(
  url: string,
  headers: Record<string, string>,
  o: CatchUpOptions,
): Promise<IncomingMessage> {
  const lib = url.startsWith("https:") ? await import("node:https") : http; // tls only when needed
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, signal: o.signal });
    req.setTimeout(o.headersMs, () => req.destroy(new Error("no answer")));
    req.on("error", reject).on("response", (res) => {
      req.setTimeout(o.idleMs);
      resolve(res);
    });
  });
}

async function bulkOnce(o: CatchUpOptions): Promise<CatchUp | "more"> {
  const failed = () => (o.signal?.aborted ? "aborted" : "retry");
  const id = o.lastId();
  const headers: Record<string, string> = { Authorization: `Bearer ${o.token}` };
  if (id) headers["Last-Event-ID"] = id;
  const res = await get(bulkUrl(o), headers, o).catch(() => undefined);
  if (!res) return failed();
  if (res.statusCode !== 200) {
    res.resume();
    const status = res.statusCode ?? 0;
    return status === 204 ? "caught-up" : status >= 500 ? "retry" : status;
  }
  const header = res.headers[BULK_ID_HEADER];
  const start = decodeId(typeof header === "string" ? header : "");
  const length = Number(res.headers["content-length"]);
  if (start?.pos.length !== 1 || !Number.isSafeInteger(length) || (id && advanceId(start, 0) !== id)) {
    res.destroy();
    throw new DataError(`bad bulk answer from ${bulkUrl(o)}: ${BULK_ID_HEADER} or length`);
  }
  if (id === undefined) o.deliver({ type: "run", id: advanceId(start, 0), run: start.run, prev: null });
  let got = 0;
  const body = await readBody(res, (bytes) => {
    got += bytes.length;
    o.deliver({ type: "data", id: advanceId(start, got), s: o.s, bytes });
  });
  return body === "complete" && got === length ? "more" : failed();
}

/** Hands on each chunk as it arrives ("data" events: no promise per chunk); rejects when onChunk throws. */
function readBody(res: IncomingMessage, onChunk: (b: Buffer) => void): Promise<"complete" | "cut"> {
  return new Promise((resolve, reject) => {
    const settle = () => resolve(res.complete ? "complete" : "cut");
    res.on("data", (b: Buffer) => {
      try {
        onChunk(b);
      } catch (err) {
        res.destroy();
        reject(err as Error);
      }
    });
    res.on("end", settle).on("close", settle).on("error", settle);
  });
}

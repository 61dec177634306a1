// GET /api/agents/NAME/logs: the agent's live log as SSE, proxied from its health server through
// the API's attach() with the guest's own event ids and framing (src/core/sse.ts). A browser's
// EventSource reconnects by itself with Last-Event-ID; that becomes attach's `after`, so a
// reconnect, to this serve or to a restarted one, resumes with nothing lost and nothing repeated.
// GET /api/agents/NAME/follow: the same log's raw bytes as written (curl -N), from `offset`.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Agentshare } from "../api/agentshare.js";
import type { AttachEvent, AttachStream } from "../api/types.js";
import { decodeId, encodeEvent, STREAM_KINDS, type StreamEvent } from "../core/sse.js";
import { DataError } from "../errors.js";
import { errorBody, SECURITY_HEADERS } from "./reply.js";

export type EndpointOf = (name: string) => Promise<{ url: string; token: string } | undefined>;

const PING_MS = 15_000;

function streamParam(url: URL, dflt: AttachStream): AttachStream {
  const s = url.searchParams.get("stream") ?? dflt;
  if (!(STREAM_KINDS as readonly string[]).includes(s))
    throw new DataError(`unknown stream ${JSON.stringify(s)}`, {
      hint: "use stdout, stderr, agent or combined",
    });
  return s as AttachStream;
}

/** The attach event back in the protocol's own shape, for the same SSE framing. */
function wireEvent(ev: AttachEvent): StreamEvent {
  switch (ev.type) {
    case "data":
      return { type: "data", id: ev.id, s: ev.stream, bytes: ev.bytes };
    case "truncate":
    case "rotate":
      return { type: ev.type, id: ev.id, s: ev.stream };
    default:
      return ev;
  }
}

const write = (res: ServerResponse, text: string | Uint8Array) =>
  res.write(text) ? Promise.resolve() : new Promise<void>((r) => res.once("drain", r).once("close", r));

/** Aborts when the client goes away. */
function closeSignal(req: IncomingMessage, res: ServerResponse): AbortController {
  const ac = new AbortController();
  res.once("close", () => ac.abort(new DOMException("client went away", "AbortError")));
  req.once("aborted", () => ac.abort());
  return ac;
}

export async function serveLogs(
  api: Agentshare,
  endpointOf: EndpointOf,
  name: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const stream = streamParam(url, "combined");
  const after =
    (req.headers["last-event-id"] as string | undefined) ?? url.searchParams.get("after") ?? undefined;
  if (after !== undefined && !decodeId(after))
    throw new DataError(`bad event id ${JSON.stringify(after)}`, {
      hint: "give an id this stream sent, or none",
    });
  const endpoint = await endpointOf(name);
  const ac = closeSignal(req, res);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.write("retry: 500\n\n");
  const ping = setInterval(() => res.write(": ping\n\n"), PING_MS);
  try {
    const events = api.attach(name, {
      stream,
      after,
      signal: ac.signal,
      ...(endpoint ? { endpoint } : {}),
      onNotice: (m) => res.write(`event: notice\ndata: ${JSON.stringify({ message: m })}\n\n`),
    });
    for await (const ev of events) await write(res, encodeEvent(wireEvent(ev)));
  } catch (err) {
    if (!ac.signal.aborted) res.write(`event: failure\ndata: ${JSON.stringify(errorBody(err))}\n\n`);
  } finally {
    clearInterval(ping);
    res.end();
  }
}

export async function serveFollow(
  api: Agentshare,
  endpointOf: EndpointOf,
  name: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const stream = streamParam(url, "stdout");
  if (stream === "combined")
    throw new DataError("follow streams one file", { hint: "use stream=stdout, stderr or agent" });
  const offText = url.searchParams.get("offset") ?? "0";
  if (!/^\d{1,15}$/.test(offText))
    throw new DataError(`bad offset ${JSON.stringify(offText)}`, {
      hint: "give a byte offset, e.g. offset=0",
    });
  let skip = Number(offText);
  const follow = url.searchParams.get("follow") !== "false";
  const endpoint = await endpointOf(name);
  const ac = closeSignal(req, res);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "application/octet-stream",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  try {
    const events = api.attach(name, {
      stream,
      follow,
      bulk: true,
      signal: ac.signal,
      ...(endpoint ? { endpoint } : {}),
    });
    let started = false;
    for await (const ev of events) {
      if (ev.type === "run" && started) skip = 0; // a later run: the offset was into the one before
      if (ev.type !== "data") continue;
      started = true;
      let b = ev.bytes;
      if (skip > 0) {
        const cut = Math.min(skip, b.byteLength);
        skip -= cut;
        b = b.subarray(cut);
      }
      if (b.byteLength) await write(res, b);
    }
  } catch {
    // the client sees the stream end
  } finally {
    res.end();
  }
}

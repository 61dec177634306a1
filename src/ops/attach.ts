// Follows one log stream of an agent's health server with the `eventsource` client, inside
// our own reconnect loop: eventsource gives up for good on a non-200 answer or a wrong
// content type, and cannot tell a silent dead connection; we reconnect with backoff and a
// ping watchdog, always sending the last event id we handed on, so nothing is lost or repeated.
// With `bulk`, each (re)connection first catches up through plain bodies (attach-bulk.ts).
// The server is not trusted: lines and events are size-limited before eventsource buffers them
// (sse-limits.ts), reconnects back off (attach-retry.ts), and --no-follow ends on its own.
import { EventSource, type FetchLike } from "eventsource";
import { SseSizeGuard } from "../core/sse-limits.js";
import { decodeEvent, type StreamEvent, type StreamKind } from "../core/sse.js";
import { escapeText } from "../core/terminal-text.js";
import { DataError, InternalError, NotFoundError, ToolError } from "../errors.js";
import { bulkUrl, catchUp } from "./attach-bulk.js";
import {
  backoffMs,
  clampMs,
  MAX_BACKOFF_MS,
  MIN_BACKOFF_MS,
  NO_FOLLOW_ATTEMPTS,
  NO_FOLLOW_IDLE_MS,
  sleep,
} from "./attach-retry.js";

const EVENT_TYPES = ["hello", "data", "run", "truncate", "rotate", "exit", "ping", "end"] as const;

export interface AttachTarget {
  url: string;
  token: string;
}

export interface AttachOptions {
  target: AttachTarget;
  stream: StreamKind;
  from: "start" | "end";
  tail?: number;
  follow: boolean;
  /** Resume after this event id (sent as Last-Event-ID from the first connection; from/tail then do not apply). */
  after?: string;
  /**
   * Catch up through /bytes/<stream> (plain bodies, far faster) while more than a MiB behind,
   * then follow the SSE stream. One stream only (ignored for combined); its data events are
   * then cut anywhere, not at line ends — for raw output, not for --json.
   */
  bulk?: boolean;
  /** Called once per event, in order; an event's id is committed only after this returns. */
  onEvent: (ev: StreamEvent) => void;
  /** Progress worth telling a person (reconnects); not part of the stream. */
  onNotice?: (msg: string) => void;
  signal?: AbortSignal;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  connectTimeoutMs?: number;
  /** --no-follow: fail when nothing but pings comes for this long (the server never sent `end`). */
  noFollowIdleMs?: number;
  /** Jitter source for the backoff (tests pass a fixed one). */
  random?: () => number;
}

export interface AttachResult {
  events: number;
  reconnects: number;
  lastId: string | undefined;
  ended: "end" | "aborted";
}

interface State {
  lastId: string | undefined;
  events: number;
  /** Events with an id (data, run, truncate, rotate): what counts as progress. */
  moved: number;
  /** Try /bytes first on every (re)connection; off for good once the server has no /bytes. */
  bulk: boolean;
}

/** The stream URL of the first connection (from/tail only apply without a Last-Event-ID). */
export function streamUrl(o: Pick<AttachOptions, "target" | "stream" | "from" | "tail" | "follow">): string {
  const u = new URL(`stream/${o.stream}`, o.target.url.endsWith("/") ? o.target.url : `${o.target.url}/`);
  u.searchParams.set("from", o.from);
  if (o.tail !== undefined) u.searchParams.set("tail", String(o.tail));
  if (!o.follow) u.searchParams.set("follow", "0");
  return u.toString();
}

/** The error for an HTTP status that retrying cannot fix, or undefined when a retry may help. */
export function permanentError(status: number | undefined, url: string): Error | undefined {
  if (status === 401 || status === 403)
    return new ToolError(`the health server at ${url} refused the token (HTTP ${status})`, {
      hint: "check --token-file (or the agent's token in the state dir)",
    });
  if (status === 404)
    return new NotFoundError(`no such stream: ${url} (HTTP 404)`, {
      hint: "streams: stdout, stderr, agent, -c",
    });
  if (status === 400) return new DataError(`the health server rejected the request ${url} (HTTP 400)`);
  if (status === 405) return new InternalError(`the health server answered 405 to GET ${url}`);
  return undefined;
}

/**
 * Follows the stream until an `end` event (no-follow) or the signal aborts; throws on permanent
 * errors, on a line or event past the limits (DataError), and in no-follow mode when the server
 * neither ends nor makes progress (ToolError).
 */
export async function attach(o: AttachOptions): Promise<AttachResult> {
  const st: State = {
    lastId: o.after,
    events: 0,
    moved: 0,
    bulk: Boolean(o.bulk) && o.stream !== "combined",
  };
  let failures = 0;
  let reconnects = 0;
  for (;;) {
    const before = st.moved;
    const how = await connect(o, st);
    if (how !== "retry") return { events: st.events, reconnects, lastId: st.lastId, ended: how };
    failures = st.moved > before ? 0 : failures + 1;
    if (!o.follow && failures >= NO_FOLLOW_ATTEMPTS)
      throw new ToolError(
        `the health server at ${o.target.url} dropped ${failures} connections in a row without sending anything new or an end event`,
        { hint: "is the guest's health server running? (with --no-follow attach does not wait for it)" },
      );
    const wait = backoffMs(
      failures,
      o.minBackoffMs ?? MIN_BACKOFF_MS,
      o.maxBackoffMs ?? MAX_BACKOFF_MS,
      o.random ?? Math.random,
    );
    o.onNotice?.(`connection lost; reconnecting in ${wait} ms`);
    if (!(await sleep(wait, o.signal)))
      return { events: st.events, reconnects, lastId: st.lastId, ended: "aborted" };
    reconnects++;
  }
}

/**
 * fetch for eventsource: adds the bearer token and our own Last-Event-ID (a fresh EventSource
 * has none), and counts the body's lines and events before eventsource's parser buffers them.
 */
function authFetch(token: string, st: State, onTooBig: (what: string) => void): FetchLike {
  return async (input, init) => {
    const headers: Record<string, string> = { ...init.headers, Authorization: `Bearer ${token}` };
    if (st.lastId) headers["Last-Event-ID"] = st.lastId;
    const res = await fetch(input, { ...init, headers });
    if (!res.body) return res;
    const guard = new SseSizeGuard();
    const limited = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          const over = guard.feed(chunk);
          if (!over) return out.enqueue(chunk);
          onTooBig(over);
          out.error(new Error(over));
        },
      }),
    );
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

type Outcome = "end" | "aborted" | "retry";

/** One (re)connection: bulk catch-up while far behind (when on), then the SSE stream. */
async function connect(o: AttachOptions, st: State): Promise<Outcome> {
  // --from end on a first connection has nothing to catch up: skip a round trip
  const behind = st.lastId !== undefined || o.from === "start" || o.tail !== undefined;
  if (st.bulk && behind && o.stream !== "combined") {
    const bulk = { url: o.target.url, s: o.stream, from: o.from, tail: o.tail };
    const r = await catchUp({
      ...bulk,
      token: o.target.token,
      lastId: () => st.lastId,
      deliver: (ev) => deliver(o, st, ev),
      signal: o.signal,
      headersMs: o.connectTimeoutMs ?? 10_000,
      idleMs: 32_000, // as the SSE watchdog with the default ping
    });
    if (typeof r === "number" && r !== 404) {
      const err = permanentError(r, bulkUrl(bulk));
      if (err) throw err;
      return "retry";
    }
    if (r === "retry" || r === "aborted") return r;
    if (r === 404) st.bulk = false; // a server from before /bytes: the SSE stream alone from now on
  }
  return connectOnce(o, st);
}

/** The server's ping interval as the watchdog uses it: JSON allows 0, 1e400 or -5. */
export const clampPingMs = (ms: number) => clampMs(ms, 100, 600_000);

/** One EventSource connection; resolves "retry" on any transient failure or a silent connection. */
function connectOnce(o: AttachOptions, st: State): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const url = streamUrl(o);
    const tooBig = (what: string) =>
      finish(
        new DataError(`the health server at ${url} sent ${what}; giving up`, {
          hint: "a health server of this version sends lines of at most ~175 KiB (docs/protocol.md, Limits)",
        }),
      );
    const es = new EventSource(url, { fetch: authFetch(o.target.token, st, tooBig) });
    let watchdog: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    let pingMs = 15_000;
    let done = false;
    const onAbort = () => finish("aborted");
    const finish = (how: Outcome | Error) => {
      if (done) return;
      done = true;
      es.close();
      clearTimeout(watchdog);
      clearTimeout(idle);
      o.signal?.removeEventListener("abort", onAbort);
      if (how instanceof Error) reject(how);
      else resolve(how);
    };
    // --no-follow: the server sends what exists and ends; pings alone for this long mean it never will
    const idleMs = clampMs(o.noFollowIdleMs ?? NO_FOLLOW_IDLE_MS, 1, 3_600_000);
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          finish(
            new ToolError(
              `the health server at ${url} sent nothing for ${idleMs} ms and no end event (--no-follow); the output may be incomplete`,
              { hint: "the guest's health server may be older than this client, or misbehaving" },
            ),
          ),
        idleMs,
      );
    };
    const onEvent = (ev: StreamEvent) => {
      if (ev.type === "hello") pingMs = clampPingMs(ev.pingMs);
      clearTimeout(watchdog);
      watchdog = setTimeout(() => finish("retry"), pingMs * 2 + 2000);
      if (!o.follow && ev.type !== "ping") armIdle();
      deliver(o, st, ev);
      if (ev.type === "end") finish("end");
    };
    if (o.signal?.aborted) return finish("aborted");
    o.signal?.addEventListener("abort", onAbort, { once: true });
    watchdog = setTimeout(() => finish("retry"), clampMs(o.connectTimeoutMs ?? 10_000, 1, 600_000));
    for (const type of EVENT_TYPES)
      es.addEventListener(type, (m: MessageEvent) => {
        let ev: StreamEvent;
        try {
          ev = decodeEvent(type, String(m.data), m.lastEventId || undefined);
        } catch (err) {
          return finish(new DataError(`bad event from ${url}: ${escapeText((err as Error).message)}`));
        }
        onEvent(ev);
      });
    es.addEventListener("error", (e) => finish(permanentError(e.code, url) ?? "retry"));
  });
}

/** Hands an event on, then commits its id: a crash in between repeats nothing we printed. */
function deliver(o: AttachOptions, st: State, ev: StreamEvent): void {
  o.onEvent(ev);
  st.events++;
  if ("id" in ev) {
    st.lastId = ev.id;
    st.moved++;
  }
}

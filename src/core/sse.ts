// The log-streaming protocol, shared by the guest health server and the attach client:
// event types, event ids (run + byte offsets) and SSE framing. Pure; see docs/protocol.md.
import { boundedErrors } from "./run-exit.js";
import { isUtf8 } from "node:buffer";
import { isRunName } from "./run-names.js";

/** The files of a run the server can stream; "combined" is stdout + stderr. */
export const STREAM_FILES = { stdout: "stdout.log", stderr: "stderr.log", agent: "agent.log" } as const;
export type StreamName = keyof typeof STREAM_FILES;
export type StreamKind = StreamName | "combined";
export const STREAM_KINDS: readonly StreamKind[] = ["stdout", "stderr", "agent", "combined"];

/** The files a stream kind follows, in id order. */
export function streamsOf(kind: StreamKind): StreamName[] {
  return kind === "combined" ? ["stdout", "stderr"] : [kind];
}

/** Where a client is in one file: its inode ("0" = not opened yet) and the byte offset reached. */
export interface FilePos {
  ino: string;
  off: number;
}

/** What an event id carries: the run and one position per followed file. */
export interface StreamId {
  run: string;
  pos: FilePos[];
}

/** "run-20260101-120000:1234.5678" — run, then `:ino.offset` per file (two for combined). */
export function encodeId(id: StreamId): string {
  return [id.run, ...id.pos.map((p) => `${p.ino}.${p.off}`)].join(":");
}

/** Parses an event id; undefined when it is not one this protocol writes. */
export function decodeId(text: string): StreamId | undefined {
  const [run, ...rest] = text.split(":");
  if (run === undefined || !isRunName(run) || rest.length < 1 || rest.length > 2) return undefined;
  const pos: FilePos[] = [];
  for (const part of rest) {
    const m = /^(\d{1,20})\.(\d{1,16})$/.exec(part);
    const off = Number(m?.[2]);
    if (!m || !Number.isSafeInteger(off)) return undefined;
    pos.push({ ino: m[1] ?? "0", off });
  }
  return { run, pos };
}

/** Bulk catch-up, `GET /bytes/<stream>`: the response header with the id of the body's first byte. */
export const BULK_ID_HEADER = "x-agentshare-id";

/** The id of a one-file position `n` bytes further on (a bulk body's bytes are consecutive). */
export function advanceId(id: StreamId, n: number): string {
  const p = id.pos[0] ?? { ino: "0", off: 0 };
  return `${id.run}:${p.ino}.${p.off + n}`;
}

/** Every event the server sends. `id` is set on the events that move a position. */
export type StreamEvent =
  | { type: "hello"; agent: string; stream: StreamKind; run: string | null; pingMs: number }
  | { type: "data"; id: string; s: StreamName; bytes: Uint8Array }
  | { type: "run"; id: string; run: string; prev: string | null }
  | { type: "truncate" | "rotate"; id: string; s: StreamName }
  | { type: "exit"; run: string; exitCode: number | null; persisted: boolean; errors: string[] }
  | { type: "ping" }
  | { type: "end" };

/** Chunks at least this big travel as base64: cheaper to encode and parse than escaped text. */
export const TEXT_MAX = 8 * 1024;

/** U+0085, U+2028 and U+2029: line ends to clients that split text on Unicode line separators. */
const UNICODE_LINE_ENDS = /[\u0085\u2028\u2029]/g;

/**
 * Payload of a data event: the bytes as text when short and valid UTF-8, else base64. The
 * Unicode line separators are escaped (\u2028), so no client that splits on them cuts an event.
 */
export function encodeData(s: StreamName, bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.length < TEXT_MAX && isUtf8(buf)
    ? JSON.stringify({ s, t: buf.toString("utf8") }).replace(
        UNICODE_LINE_ENDS,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      )
    : JSON.stringify({ s, b: buf.toString("base64") });
}

function payloadOf(ev: StreamEvent): string {
  switch (ev.type) {
    case "data":
      return encodeData(ev.s, ev.bytes);
    case "hello":
      return JSON.stringify({ agent: ev.agent, stream: ev.stream, run: ev.run, pingMs: ev.pingMs });
    case "run":
      return JSON.stringify({ run: ev.run, prev: ev.prev });
    case "truncate":
    case "rotate":
      return JSON.stringify({ s: ev.s });
    case "exit":
      return JSON.stringify({
        run: ev.run,
        exitCode: ev.exitCode,
        persisted: ev.persisted,
        errors: ev.errors,
      });
    default:
      return "{}";
  }
}

/** One SSE frame. JSON never contains a raw CR or LF, so `data:` is always a single line. */
export function encodeEvent(ev: StreamEvent): string {
  const id = "id" in ev ? `id: ${ev.id}\n` : "";
  return `event: ${ev.type}\n${id}data: ${payloadOf(ev)}\n\n`;
}

const isStream = (v: unknown): v is StreamName => typeof v === "string" && v in STREAM_FILES;

function decodeBytes(p: Record<string, unknown>): Uint8Array {
  if (typeof p.t === "string") return Buffer.from(p.t, "utf8");
  if (typeof p.b === "string") return Buffer.from(p.b, "base64");
  throw new Error("data event without t or b");
}

// Big chunks are base64 in exactly this shape; slicing them out skips JSON.parse (throughput).
function fastBase64(data: string): { s: StreamName; b: string } | undefined {
  const m = /^\{"s":"(stdout|stderr|agent)","b":"/.exec(data.slice(0, 24));
  if (!m || !data.endsWith('"}') || data.indexOf('"', m[0].length) !== data.length - 2) return undefined;
  return { s: m[1] as StreamName, b: data.slice(m[0].length, -2) };
}

/** Rebuilds an event from an SSE frame's type, data and id; throws on anything malformed. */
export function decodeEvent(type: string, data: string, id: string | undefined): StreamEvent {
  const fast = type === "data" && id !== undefined && decodeId(id) ? fastBase64(data) : undefined;
  if (fast) return { type: "data", id: id as string, s: fast.s, bytes: Buffer.from(fast.b, "base64") };
  const p = JSON.parse(data) as Record<string, unknown>;
  if (typeof p !== "object" || p === null) throw new Error(`event ${type}: payload is not an object`);
  const needId = (): string => {
    if (id === undefined || !decodeId(id)) throw new Error(`event ${type}: missing or bad id ${String(id)}`);
    return id;
  };
  switch (type) {
    case "data":
      if (!isStream(p.s)) throw new Error("data event: bad stream");
      return { type, id: needId(), s: p.s, bytes: decodeBytes(p) };
    case "hello":
      return {
        type,
        agent: String(p.agent ?? ""),
        stream: STREAM_KINDS.includes(p.stream as StreamKind) ? (p.stream as StreamKind) : "stdout",
        run: typeof p.run === "string" ? p.run : null,
        pingMs: typeof p.pingMs === "number" ? p.pingMs : 15_000,
      };
    case "run":
      if (typeof p.run !== "string") throw new Error("run event: no run");
      return { type, id: needId(), run: p.run, prev: typeof p.prev === "string" ? p.prev : null };
    case "truncate":
    case "rotate":
      if (!isStream(p.s)) throw new Error(`${type} event: bad stream`);
      return { type, id: needId(), s: p.s };
    case "exit":
      if (typeof p.run !== "string") throw new Error("exit event: no run");
      return {
        type,
        run: p.run,
        exitCode: Number.isInteger(p.exitCode) ? (p.exitCode as number) : null,
        persisted: p.persisted !== false,
        errors: boundedErrors(p.errors),
      };
    case "ping":
    case "end":
      return { type };
    default:
      throw new Error(`unknown event type ${type}`);
  }
}

/** One parsed SSE frame (before decodeEvent). */
export interface SseFrame {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Incremental SSE parser (for raw-socket clients: tests, benchmarks). Feed text as it
 * arrives; complete frames come out. Handles LF, CRLF and CR line ends per the SSE spec.
 */
export class SseFrameParser {
  #buf = "";
  #event = "";
  #data: string[] = [];
  #id: string | undefined;

  feed(text: string): SseFrame[] {
    this.#buf += text;
    const out: SseFrame[] = [];
    const re = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = re.exec(this.#buf); m; m = re.exec(this.#buf)) {
      if (m[0] === "\r" && m.index === this.#buf.length - 1) break; // may be the first half of CRLF
      this.#line(this.#buf.slice(start, m.index), out);
      start = m.index + m[0].length;
    }
    this.#buf = this.#buf.slice(start);
    return out;
  }

  #line(line: string, out: SseFrame[]): void {
    if (line === "") {
      if (this.#data.length)
        out.push({ event: this.#event || "message", data: this.#data.join("\n"), id: this.#id });
      this.#event = "";
      this.#data = [];
      return;
    }
    const colon = line.indexOf(":");
    if (colon === 0) return; // comment
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "id" && !value.includes("\0")) this.#id = value;
  }
}

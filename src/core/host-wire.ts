// The wire between the controlling machine and the host helper it runs over SSH on a remote VM
// host (src/host/remote.ts ↔ src/host/helper.ts): length-prefixed frames on the helper's stdin
// and stdout, each a JSON header plus the raw bytes of every binary value in it, so file contents
// cross as bytes (no base64) and everything else as JSON.
//
// frame = u32 header length, u32 body length (big-endian), header (UTF-8 JSON), body.
// In the header, a Uint8Array is {"$b": [offset, length]} into the body, a Map is {"$m": [[k, v]…]},
// undefined is {"$u": 1}; plain objects and arrays as JSON.

/** The largest frame either side accepts: a bigger length is a broken or hostile peer. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** What crosses: JSON values, bytes, Maps and undefined, nested. */
export type WireValue = unknown;

/** A request: call method `m` with arguments `a`; `id` pairs it with its reply. */
export interface WireRequest {
  id: number;
  m: string;
  a: WireValue[];
}

/** An error as it crosses: enough to rebuild the project's error class or an errno error. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  exitCode?: number;
  hint?: string;
  problems?: string[];
}

/** A reply: a result `r`, or an error `e`. */
export type WireReply = { id: number; r: WireValue } | { id: number; e: WireError };

interface Encoder {
  chunks: Uint8Array[];
  size: number;
}

function encodeValue(v: WireValue, enc: Encoder): unknown {
  if (v === undefined) return { $u: 1 };
  if (v instanceof Uint8Array) {
    const at = enc.size;
    enc.chunks.push(v);
    enc.size += v.byteLength;
    return { $b: [at, v.byteLength] };
  }
  if (v instanceof Map)
    return { $m: [...v.entries()].map(([k, x]) => [encodeValue(k, enc), encodeValue(x, enc)]) };
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, enc));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeValue(x, enc);
    return out;
  }
  return v;
}

function decodeValue(v: unknown, body: Uint8Array): WireValue {
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, body));
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if (keys[0] === "$u") return undefined;
    if (keys[0] === "$b") {
      const [at, len] = o.$b as [number, number];
      if (
        !Number.isSafeInteger(at) ||
        !Number.isSafeInteger(len) ||
        at < 0 ||
        len < 0 ||
        at + len > body.length
      )
        throw new Error("host wire: a byte range points outside the frame");
      return body.subarray(at, at + len);
    }
    if (keys[0] === "$m")
      return new Map(
        (o.$m as [unknown, unknown][]).map(([k, x]) => [decodeValue(k, body), decodeValue(x, body)]),
      );
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decodeValue(o[k], body);
  return out;
}

/** One message as a frame. */
export function encodeFrame(message: WireValue): Buffer {
  const enc: Encoder = { chunks: [], size: 0 };
  const header = Buffer.from(JSON.stringify(encodeValue(message, enc)), "utf8");
  const head = Buffer.alloc(8);
  head.writeUInt32BE(header.length, 0);
  head.writeUInt32BE(enc.size, 4);
  if (8 + header.length + enc.size > MAX_FRAME_BYTES)
    throw new Error(`host wire: a message of ${header.length + enc.size} bytes is over the frame limit`);
  return Buffer.concat([head, header, ...enc.chunks]);
}

/**
 * Splits a byte stream into messages. Feed it chunks as they arrive; it returns the whole
 * messages so far. Throws on a frame over the limit or a header that is not JSON (the peer is
 * broken: the caller ends the connection).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): WireValue[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: WireValue[] = [];
    for (;;) {
      if (this.buf.length < 8) break;
      const hlen = this.buf.readUInt32BE(0);
      const blen = this.buf.readUInt32BE(4);
      if (8 + hlen + blen > MAX_FRAME_BYTES)
        throw new Error(`host wire: a frame of ${hlen + blen} bytes is over the limit`);
      if (this.buf.length < 8 + hlen + blen) break;
      const header = JSON.parse(this.buf.subarray(8, 8 + hlen).toString("utf8")) as unknown;
      // the body is copied out so the next frames' bytes do not keep this buffer alive
      const body = Buffer.from(this.buf.subarray(8 + hlen, 8 + hlen + blen));
      out.push(decodeValue(header, body));
      this.buf = this.buf.subarray(8 + hlen + blen);
    }
    return out;
  }
}

/** An error as a WireError (the fields the project's errors and Node's errno errors carry). */
export function wireErrorOf(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const e = err as Error & { code?: unknown; exitCode?: unknown; hint?: unknown; problems?: unknown };
  return {
    name: e.name,
    message: e.message,
    code: typeof e.code === "string" ? e.code : undefined,
    exitCode: typeof e.exitCode === "number" ? e.exitCode : undefined,
    hint: typeof e.hint === "string" ? e.hint : undefined,
    problems: Array.isArray(e.problems) ? e.problems.map(String) : undefined,
  };
}

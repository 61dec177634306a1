// How much SSE text the attach client accepts in one line and one event. Our server's longest
// line is a data event of one 128 KiB chunk in base64 (~175 KiB); anything far past that is a
// server trying to make the client buffer without end. See docs/protocol.md ("Limits"). Pure.

/** The longest SSE line (field name, value) the client accepts, in bytes. */
export const SSE_LINE_MAX = 1024 * 1024;
/** The most bytes of lines (all fields) one event may take before its blank line. */
export const SSE_EVENT_MAX = 2 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts the bytes of the current line and event of an SSE byte stream, chunk by chunk, as the
 * SSE parser splits them (CR, LF or CRLF end a line; an empty line ends an event). feed()
 * returns a message naming the limit once one is passed; the caller then drops the connection.
 */
export class SseSizeGuard {
  #line = 0;
  #event = 0;
  #afterCr = false;

  constructor(
    readonly lineMax = SSE_LINE_MAX,
    readonly eventMax = SSE_EVENT_MAX,
  ) {}

  feed(chunk: Uint8Array): string | undefined {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let i = 0;
    let nextLf = buf.indexOf(LF, 0);
    let nextCr = buf.indexOf(CR, 0);
    while (i < buf.length) {
      if (nextLf !== -1 && nextLf < i) nextLf = buf.indexOf(LF, i);
      if (nextCr !== -1 && nextCr < i) nextCr = buf.indexOf(CR, i);
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      const run = (end === -1 ? buf.length : end) - i;
      if (run > 0) {
        this.#line += run;
        this.#event += run;
        this.#afterCr = false;
        const over = this.#check();
        if (over) return over;
      }
      if (end === -1) break;
      if (buf[end] === LF && this.#afterCr && run === 0)
        this.#afterCr = false; // the LF of a CRLF
      else {
        if (this.#line === 0) this.#event = 0; // an empty line: the event is dispatched
        this.#line = 0;
        this.#afterCr = buf[end] === CR;
      }
      i = end + 1;
    }
    return undefined;
  }

  #check(): string | undefined {
    if (this.#line > this.lineMax)
      return `an SSE line longer than ${this.lineMax} bytes (the client's line limit)`;
    if (this.#event > this.eventMax)
      return `an SSE event longer than ${this.eventMax} bytes (the client's event limit)`;
    return undefined;
  }
}

// Where to cut what was read from a log so events end on line boundaries when they can,
// and never split a UTF-8 character unless the bytes are not UTF-8 anyway. Pure.

const LF = 0x0a;
const CR = 0x0d;

/** Length of `buf` without a trailing incomplete UTF-8 sequence (never 0 for a non-empty buffer). */
export function utf8Boundary(buf: Uint8Array): number {
  const len = buf.length;
  for (let j = len - 1; j >= Math.max(0, len - 4); j--) {
    const b = buf[j] ?? 0;
    if (b < 0x80) return len;
    if (b < 0xc0) continue; // continuation byte: look further back for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return j + need > len && j > 0 ? j : len;
  }
  return len;
}

/**
 * How many bytes of `buf` to send now: through the last CR or LF; all of a buffer that filled
 * the read size (a very long line), cut at a UTF-8 boundary; everything when `flush`; else 0 (wait).
 */
export function sendableLength(buf: Uint8Array, full: boolean, flush: boolean): number {
  for (let i = buf.length - 1; i >= 0; i--) {
    const b = buf[i];
    if (b === LF || b === CR) return i + 1;
  }
  if (flush) return buf.length;
  return full ? utf8Boundary(buf) : 0;
}

/** Counts back `n` lines from the end of `tail` (the last bytes of a file); returns the cut index or -1. */
export function lineStartFromEnd(
  tail: Uint8Array,
  n: number,
  skipFinalNewline: boolean,
): { index: number; found: number } {
  let found = 0;
  let i = tail.length - 1;
  if (skipFinalNewline && tail[i] === LF) i--;
  for (; i >= 0; i--) {
    if (tail[i] === LF && ++found === n) return { index: i + 1, found };
  }
  return { index: -1, found };
}

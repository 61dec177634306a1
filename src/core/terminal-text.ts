// Escaping for strings the CLI prints that a guest or a server chose (run names, inbox paths,
// file names, error messages, metrics): every control character becomes visible text, so a
// string cannot move the cursor, retitle the window, write the clipboard (OSC 52) or forge a line.
// Streams of log bytes go through TerminalFilter (terminal-filter.ts) instead. Pure.

// C0, DEL, C1, and the bidi overrides/isolates that reorder what a line shows ("Trojan Source").
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** How a control character is shown: `\x1b` for C0 and DEL, `\u009b` for C1 and bidi controls. */
export function visibleControl(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  return n <= 0x1f || n === 0x7f
    ? `\\x${n.toString(16).padStart(2, "0")}`
    : `\\u${n.toString(16).padStart(4, "0")}`;
}

/**
 * Makes a guest- or server-controlled string safe to print on a terminal. By default every
 * control character is escaped, LF and TAB included (one string, one line); `lines` keeps LF
 * and TAB, for whole messages that are multi-line by design. Backslashes are left as they are.
 */
export function escapeText(s: string, o: { lines?: boolean } = {}): string {
  return s.replace(o.lines ? UNSAFE_KEEP_LINES : UNSAFE, visibleControl);
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with the characters JSON.stringify leaves raw (DEL, C1, line/paragraph separators,
 * bidi controls) written as \u escapes: the same JSON value, but safe on a terminal. They can
 * only occur inside strings, where a \u escape means the same character.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}

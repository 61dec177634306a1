// Printing: results on stdout (text or --json), progress and warnings on stderr. Everything is
// escaped on the way out (escapeText keeping LF/TAB, jsonSafe): a guest-chosen name that slipped
// into a message still cannot drive the terminal. Name such strings with escapeText() where they
// are put into text, so their newlines show too.
import { escapeText, jsonSafe } from "../core/terminal-text.js";

export interface Output {
  json: boolean;
  /** Prints `data` as one JSON document with --json, else the text from `text()`. */
  result(data: unknown, text: () => string): void;
  line(s: string): void;
  warn(s: string): void;
  /** A line about what the command is doing, on stderr (`agentshare: …`), even when piped. */
  note(s: string): void;
  /** A transient status line on a terminal (stderr); silent when piped or with --json. */
  progress(s: string): void;
  progressDone(): void;
}

export function createOutput(opts: { json: boolean }): Output {
  const tty = Boolean(process.stderr.isTTY) && !opts.json;
  let shown = false;
  const clear = () => {
    if (shown) process.stderr.write("\r\x1b[2K");
    shown = false;
  };
  return {
    json: opts.json,
    result(data, text) {
      clear();
      if (opts.json) process.stdout.write(`${jsonSafe(JSON.stringify(data, null, 2))}\n`);
      else {
        const s = escapeText(text(), { lines: true });
        if (s) process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
      }
    },
    line(s) {
      clear();
      process.stdout.write(`${escapeText(s, { lines: true })}\n`);
    },
    warn(s) {
      clear();
      process.stderr.write(`agentshare: warning: ${escapeText(s, { lines: true })}\n`);
    },
    note(s) {
      clear();
      process.stderr.write(`agentshare: ${escapeText(s, { lines: true })}\n`);
    },
    progress(s) {
      if (!tty) return;
      const width = process.stderr.columns ?? 80;
      process.stderr.write(`\r\x1b[2K${escapeText(s).slice(0, width - 1)}`);
      shown = true;
    },
    progressDone: clear,
  };
}

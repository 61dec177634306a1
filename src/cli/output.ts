// Printing: results on stdout (text or --json), progress and warnings on stderr.

export interface Output {
  json: boolean;
  /** Prints `data` as one JSON document with --json, else the text from `text()`. */
  result(data: unknown, text: () => string): void;
  line(s: string): void;
  warn(s: string): void;
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
      if (opts.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        const s = text();
        if (s) process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
      }
    },
    line(s) {
      clear();
      process.stdout.write(`${s}\n`);
    },
    warn(s) {
      clear();
      process.stderr.write(`agentshare: warning: ${s}\n`);
    },
    progress(s) {
      if (!tty) return;
      const width = process.stderr.columns ?? 80;
      process.stderr.write(`\r\x1b[2K${s.slice(0, width - 1)}`);
      shown = true;
    },
    progressDone: clear,
  };
}

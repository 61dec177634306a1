// How `attach` prints events: raw bytes (byte-identical to the file for one stream), or through
// a TerminalFilter when stdout is a terminal (the guest's escapes shown, not obeyed; SGR kept),
// stderr in red on a terminal with -c, notices on stderr, or one JSON object per event with --json.
import type { AttachEvent } from "../api/types.js";
import type { StreamName } from "../core/sse.js";
import { TerminalFilter } from "../core/terminal-filter.js";
import { escapeText, jsonSafe } from "../core/terminal-text.js";

export interface SinkOptions {
  label: string;
  json: boolean;
  /** stdout is a terminal and not --raw: filter the guest's bytes. */
  terminal: boolean;
  /** -c on a terminal: stderr chunks in red. */
  color: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface Sink {
  onEvent: (ev: AttachEvent) => void;
  /** Writes what the filters still hold (a cut-off sequence, shown) and resets colours. */
  end: () => void;
}

/** The JSON line of one event (pings are left out); safe on a terminal (jsonSafe). */
export function eventJson(label: string, ev: AttachEvent): string | undefined {
  if (ev.type !== "data") {
    const { type, ...rest } = ev;
    return jsonSafe(JSON.stringify({ ...rest, event: type, agent: label }));
  }
  const buf = Buffer.from(ev.bytes);
  const text = buf.toString("utf8");
  const exact = Buffer.from(text, "utf8").equals(buf);
  return jsonSafe(
    JSON.stringify({
      agent: label,
      event: "data",
      id: ev.id,
      stream: ev.stream,
      ...(exact ? { text } : { base64: buf.toString("base64") }),
    }),
  );
}

/** The notice for a non-data event, or undefined; the run name is the server's, so escaped. */
export function noticeOf(label: string, ev: AttachEvent): string | undefined {
  if (ev.type === "run" && ev.prev !== null) return `agentshare: ${label}: new run ${escapeText(ev.run)}\n`;
  if (ev.type === "exit") {
    const code = ev.exitCode === null ? "unknown" : String(ev.exitCode);
    if (ev.persisted) return `agentshare: ${label}: run ${escapeText(ev.run)} ended, exit code ${code}\n`;
    const why = ev.errors.map((e) => escapeText(e)).join("; ") || "unknown";
    return `agentshare: ${label}: run ${escapeText(ev.run)} ended, exit code ${code}, but its output did NOT persist: ${why}\n`;
  }
  if (ev.type === "truncate" || ev.type === "rotate")
    return `agentshare: ${label}: ${ev.stream} log ${ev.type === "truncate" ? "truncated" : "rotated"}\n`;
  return undefined;
}

/** Returns the onEvent callback for attach(), and what to call when it returns. */
export function createSink(o: SinkOptions): Sink {
  const filters = new Map<StreamName, TerminalFilter>();
  const filterOf = (s: StreamName) => {
    let f = filters.get(s);
    if (!f) filters.set(s, (f = new TerminalFilter()));
    return f;
  };
  const write = (s: StreamName, bytes: Uint8Array) => {
    if (!bytes.length) return;
    if (o.color && s === "stderr") o.out.write(`\x1b[31m${Buffer.from(bytes).toString("utf8")}\x1b[0m`);
    else o.out.write(bytes);
  };
  const onEvent = (ev: AttachEvent) => {
    if (o.json) {
      const line = eventJson(o.label, ev);
      if (line) o.out.write(`${line}\n`);
    } else if (ev.type === "data")
      write(ev.stream, o.terminal ? filterOf(ev.stream).push(ev.bytes) : ev.bytes);
    else {
      const notice = noticeOf(o.label, ev);
      if (notice) o.err.write(notice);
    }
  };
  return { onEvent, end: () => filters.forEach((f, s) => write(s, f.flush())) };
}

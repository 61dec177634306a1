// How `attach` prints events: raw bytes (byte-identical to the file for one stream), stderr
// in red on a terminal with -c, notices on stderr, or one JSON object per event with --json.
import type { StreamEvent } from "../core/sse.js";

export interface SinkOptions {
  label: string;
  json: boolean;
  color: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** The JSON line of one event (pings are left out). */
export function eventJson(label: string, ev: StreamEvent): string | undefined {
  if (ev.type === "ping") return undefined;
  if (ev.type !== "data") {
    const { type, ...rest } = ev;
    return JSON.stringify({ ...rest, event: type, agent: label });
  }
  const buf = Buffer.from(ev.bytes);
  const text = buf.toString("utf8");
  const exact = Buffer.from(text, "utf8").equals(buf);
  return JSON.stringify({
    agent: label,
    event: "data",
    id: ev.id,
    stream: ev.s,
    ...(exact ? { text } : { base64: buf.toString("base64") }),
  });
}

/** Returns the onEvent callback for attach(). */
export function createSink(o: SinkOptions): (ev: StreamEvent) => void {
  return (ev) => {
    if (o.json) {
      const line = eventJson(o.label, ev);
      if (line) o.out.write(`${line}\n`);
      return;
    }
    if (ev.type === "data") {
      if (o.color && ev.s === "stderr")
        o.out.write(`\x1b[31m${Buffer.from(ev.bytes).toString("utf8")}\x1b[0m`);
      else o.out.write(ev.bytes);
    } else if (ev.type === "run" && ev.prev !== null)
      o.err.write(`agentshare: ${o.label}: new run ${ev.run}\n`);
    else if (ev.type === "truncate" || ev.type === "rotate")
      o.err.write(
        `agentshare: ${o.label}: ${ev.s} log ${ev.type === "truncate" ? "truncated" : "rotated"}\n`,
      );
  };
}

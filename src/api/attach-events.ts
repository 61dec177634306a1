// attach() as an AsyncIterable: the attach op pushes events as the server sends them; a program
// pulls them at its own pace. A consumer that falls behind by more than `bufferBytes` of data
// does not make memory grow: that connection is closed, and once the consumer has caught up a
// new one resumes after the last event it was handed (Last-Event-ID), so nothing is lost or
// repeated, the same guarantee that covers a dropped connection.
import type { AttachTarget } from "../ops/attach.js";
import type { StreamEvent } from "../core/sse.js";
import type { AttachEvent, AttachParams } from "./types.js";

const DEFAULT_BUFFER_BYTES = 8 * 1024 * 1024;

/** The public shape of one stream event; undefined for the ones a program need not see (hello, ping). */
export function publicEvent(ev: StreamEvent): AttachEvent | undefined {
  switch (ev.type) {
    case "data":
      return { type: "data", id: ev.id, stream: ev.s, bytes: ev.bytes };
    case "run":
      return { type: "run", id: ev.id, run: ev.run, prev: ev.prev };
    case "truncate":
    case "rotate":
      return { type: ev.type, id: ev.id, stream: ev.s };
    case "exit":
      return {
        type: "exit",
        run: ev.run,
        exitCode: ev.exitCode,
        persisted: ev.persisted,
        errors: ev.errors,
      };
    case "end":
      return { type: "end" };
    default:
      return undefined;
  }
}

const sizeOf = (e: AttachEvent) => (e.type === "data" ? e.bytes.byteLength : 64);

export function attachEvents(
  name: string,
  o: AttachParams,
  target: () => Promise<AttachTarget>,
): AsyncIterable<AttachEvent> {
  return { [Symbol.asyncIterator]: () => follow(name, o, target) };
}

async function* follow(
  _name: string,
  o: AttachParams,
  target: () => Promise<AttachTarget>,
): AsyncGenerator<AttachEvent, void, undefined> {
  o.signal?.throwIfAborted();
  const limit = Math.max(64 * 1024, o.bufferBytes ?? DEFAULT_BUFFER_BYTES);
  const { attach } = await import("../ops/attach.js");
  const t = await target();
  const queue: AttachEvent[] = [];
  let queued = 0;
  let after = o.after;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let conn: AbortController | undefined;
  const onUserAbort = () => conn?.abort();
  o.signal?.addEventListener("abort", onUserAbort, { once: true });
  try {
    for (;;) {
      // one connection, until the server ends, the consumer lags too far, or an error
      const ac = new AbortController();
      conn = ac;
      let paused = false;
      let done: { ended: "end" | "aborted" } | { error: unknown } | undefined;
      void attach({
        target: t,
        stream: o.stream ?? "stdout",
        from: o.from ?? "start",
        tail: after === undefined ? o.tail : undefined,
        follow: o.follow !== false,
        after,
        bulk: o.bulk,
        onEvent: (raw) => {
          if (paused) return; // a closed connection's stragglers: the next one sends them again
          const ev = publicEvent(raw);
          if (!ev) return;
          queue.push(ev);
          queued += sizeOf(ev);
          if ("id" in ev) after = ev.id;
          if (queued > limit) {
            paused = true;
            ac.abort();
          }
          notify();
        },
        onNotice: o.onNotice,
        signal: ac.signal,
      }).then(
        (r) => {
          done = { ended: r.ended };
          notify();
        },
        (error: unknown) => {
          done = { error };
          notify();
        },
      );
      for (;;) {
        while (queue.length) {
          const ev = queue.shift()!;
          queued -= sizeOf(ev);
          yield ev;
          if (ev.type === "end") return;
        }
        if (done) break;
        await new Promise<void>((r) => (wake = r));
      }
      const d = done as { ended: "end" | "aborted" } | { error: unknown };
      if ("error" in d) throw d.error;
      if (o.signal?.aborted) throw o.signal.reason;
      if (d.ended === "end") return; // the end event was already handed on
      if (!paused) return;
      // caught up after a pause: resume after the last event handed on
    }
  } finally {
    o.signal?.removeEventListener("abort", onUserAbort);
    conn?.abort();
  }
}

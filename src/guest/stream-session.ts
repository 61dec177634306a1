// One client of /stream/*: positions itself (resume id, from, tail), then sends the current
// run's bytes as data events, reading a chunk only when the socket has drained. A client
// whose buffered bytes pass the cap, or that does not drain for stallMs, is cut off; it
// reconnects with Last-Event-ID and loses nothing.
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import {
  encodeEvent,
  encodeId,
  STREAM_FILES,
  streamsOf,
  type StreamEvent,
  type StreamId,
  type StreamKind,
} from "../core/sse.js";
import { FileCursor, type Step } from "./file-cursor.js";
import type { InboxHub, Subscriber } from "./inbox-hub.js";
import type { ServerOptions } from "./options.js";
import { readRunExit, runDir } from "./runs.js";

const CHUNK = 128 * 1024;
/** Keep reading ahead while less than this is buffered for the socket (throughput), then wait for drain. */
const WINDOW = 256 * 1024;

export interface SessionStart {
  kind: StreamKind;
  follow: boolean;
  from: "start" | "end";
  tail: number | undefined;
  resume: StreamId | undefined;
}

/** The SSE session of one request; begin() once, it then runs until the client goes. */
export class StreamSession implements Subscriber {
  #run: string | null = null;
  #dir: string | undefined;
  #cursors: FileCursor[] = [];
  #busy = false;
  #again = false;
  #closed = false;
  #drainSince = 0;
  #switchArmed = false;
  #flushTimer: NodeJS.Timeout | undefined;
  /** The run whose exit this session reported (once per run per connection). */
  #exitSent: string | null = null;

  constructor(
    readonly res: ServerResponse,
    readonly o: ServerOptions,
    readonly hub: InboxHub,
    readonly start: SessionStart,
  ) {
    res.on("close", () => void this.#close());
  }

  async begin(): Promise<void> {
    this.res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
      Connection: "keep-alive",
    });
    await this.hub.refresh();
    const { kind, resume } = this.start;
    this.#send({
      type: "hello",
      agent: this.o.agent,
      stream: kind,
      run: resume?.run ?? this.hub.current,
      pingMs: this.o.pingMs,
    });
    const dir = resume ? await runDir(this.o.inbox, resume.run) : undefined;
    if (resume && dir) this.#follow(resume.run, dir, resume.pos);
    else if (!resume && this.hub.current) {
      // Positioning (from/tail) awaits between cursors, and the run dir's watcher may fire
      // meanwhile: hold the pump off until every cursor is placed, or it reads from byte 0.
      this.#busy = true;
      try {
        await this.#adopt(this.hub.current, null, true);
      } finally {
        this.#busy = false;
      }
    }
    this.hub.add(this);
    this.poke();
  }

  #follow(run: string, dir: string, pos: StreamId["pos"]): void {
    if (this.#dir) this.hub.unwatchDir(this.#dir, this);
    this.#run = run;
    this.#dir = dir;
    this.#cursors = streamsOf(this.start.kind).map(
      (s, i) => new FileCursor(join(dir, STREAM_FILES[s]), pos[i] ?? { ino: "0", off: 0 }),
    );
    this.hub.watchDir(dir, this);
  }

  /** Switches to `run` (from its start, or positioned by from/tail on a first connection). */
  async #adopt(run: string, prev: string | null, first = false): Promise<boolean> {
    const dir = await runDir(this.o.inbox, run);
    if (!dir || this.#closed) return false;
    await Promise.all(this.#cursors.map((c) => c.close()));
    this.#follow(run, dir, []);
    if (first) for (const c of this.#cursors) await c.seek(this.start.from, this.start.tail);
    this.#send({ type: "run", id: this.#id(), run, prev });
    return true;
  }

  #id(): string {
    return encodeId({ run: this.#run ?? "", pos: this.#cursors.map((c) => ({ ino: c.ino, off: c.off })) });
  }

  #send(ev: StreamEvent): void {
    if (this.#closed) return;
    this.res.write(encodeEvent(ev));
    if (this.res.writableLength > this.o.capBytes) return this.#cutOff("buffered bytes passed the cap");
    if (this.res.writableLength >= WINDOW && this.#drainSince === 0) {
      this.#drainSince = Date.now();
      this.res.once("drain", () => {
        this.#drainSince = 0;
        this.poke();
      });
    }
  }

  #cutOff(why: string): void {
    if (this.#closed) return;
    process.stderr.write(`health-server: cutting off a slow ${this.start.kind} client: ${why}\n`);
    this.res.destroy();
    void this.#close();
  }

  /** Wakes the session; at most one pump runs at a time, a poke during one runs it again. */
  poke(): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    void (async () => {
      do {
        this.#again = false;
        await this.#pump().catch((err: unknown) => this.#cutOff(`read failed: ${String(err)}`));
      } while (this.#again && !this.#closed);
      this.#busy = false;
    })();
  }

  ping(): void {
    this.#send({ type: "ping" });
  }

  checkStall(now: number): void {
    if (this.#drainSince !== 0 && now - this.#drainSince > this.o.stallMs) this.#cutOff("not reading");
  }

  async #pump(): Promise<void> {
    while (!this.#closed && this.#drainSince === 0) {
      if (this.#run === null) {
        if (this.hub.current && (await this.#adopt(this.hub.current, null))) continue;
        // no current run (missing, outside runs/, runs/ a symlink): nothing will come without following
        return this.start.follow ? undefined : this.#end();
      }
      const r = await this.#readPass();
      if (r === "moved") continue;
      if (r !== undefined) return this.#flushLater(r);
      await this.#reportExit();
      if (!this.start.follow) return this.#end();
      const cur = this.hub.current;
      if (!cur || cur === this.#run) return void (this.#switchArmed = false);
      // a new run: read the old files once more after seeing it, so their last bytes are not lost
      if (!this.#switchArmed) this.#switchArmed = true;
      else if (!(await this.#adopt(cur, this.#run))) return;
      else this.#switchArmed = false;
    }
  }

  /** One step of every cursor: "moved" if anything was sent, a wait for a partial line, or undefined (idle). */
  async #readPass(): Promise<"moved" | number | undefined> {
    let moved = false;
    let wait: number | undefined;
    for (const [i, c] of this.#cursors.entries()) {
      const st = await c.step({
        max: CHUNK,
        follow: this.start.follow,
        flushMs: this.o.flushMs,
        now: Date.now(),
      });
      if (st.kind === "idle") {
        if (st.waitMs !== undefined) wait = Math.min(wait ?? Infinity, st.waitMs);
        continue;
      }
      moved = true;
      this.#send(this.#eventOf(st, streamsOf(this.start.kind)[i] ?? "stdout"));
      if (this.#closed || this.#drainSince !== 0) return "moved";
    }
    return moved ? "moved" : wait;
  }

  #eventOf(st: Exclude<Step, { kind: "idle" }>, s: ReturnType<typeof streamsOf>[number]): StreamEvent {
    const id = this.#id();
    return st.kind === "data" ? { type: "data", id, s, bytes: st.bytes } : { type: st.kind, id, s };
  }

  /** Once every byte of a finished run was sent: how it ended, and whether its output persisted. */
  async #reportExit(): Promise<void> {
    const run = this.#run;
    if (run === null || this.#dir === undefined || this.#exitSent === run) return;
    const exit = await readRunExit(this.#dir);
    if (!exit || this.#closed || this.#run !== run) return;
    this.#exitSent = run;
    this.#send({ type: "exit", run, ...exit });
  }

  #flushLater(ms: number): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.poke();
    }, ms);
  }

  #end(): void {
    this.#send({ type: "end" });
    this.res.end();
    void this.#close();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    this.hub.remove(this);
    if (this.#dir) this.hub.unwatchDir(this.#dir, this);
    await Promise.all(this.#cursors.map((c) => c.close()));
  }
}

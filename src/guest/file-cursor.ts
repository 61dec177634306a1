// Follows one log file like `tail -F`: waits for it to exist, reads from a byte offset in
// bounded chunks, notices truncation (size < offset) and rotation (a new inode at the path).
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { FilePos } from "../core/sse.js";
import { lineStartFromEnd, sendableLength } from "./chunking.js";

export type Step =
  | { kind: "data"; bytes: Buffer }
  | { kind: "truncate" }
  | { kind: "rotate" }
  | { kind: "idle"; waitMs?: number };

export interface StepOptions {
  max: number;
  follow: boolean;
  flushMs: number;
  now: number;
}

const IDLE: Step = { kind: "idle" };

/** One followed file; `ino` and `off` are what the event ids carry. */
export class FileCursor {
  ino: string;
  off: number;
  #fh: FileHandle | undefined;
  #pendingAt = -1;
  #pendingSince = 0;
  #knownSize = 0;

  constructor(
    readonly path: string,
    pos: FilePos,
  ) {
    this.ino = pos.ino;
    this.off = pos.off;
  }

  /** Sets the start of a first connection: the end of the file, or `tail` lines before it. */
  async seek(from: "start" | "end", tail: number | undefined): Promise<void> {
    await this.#open();
    if (!this.#fh) return;
    const size = (await this.#fh.stat()).size;
    if (tail !== undefined) this.off = await this.#tailOffset(size, tail);
    else if (from === "end") this.off = size;
  }

  async #tailOffset(size: number, n: number): Promise<number> {
    const fh = this.#fh;
    if (!fh || n === 0) return size;
    let end = size;
    let remaining = n;
    let first = true;
    while (end > 0) {
      const start = Math.max(0, end - 64 * 1024);
      const buf = Buffer.allocUnsafe(end - start);
      await fh.read(buf, 0, buf.length, start);
      const r = lineStartFromEnd(buf, remaining, first);
      if (r.index >= 0) return start + r.index;
      remaining -= r.found;
      first = false;
      end = start;
    }
    return 0;
  }

  /** One step: a chunk of data, a truncate/rotate notice, or idle (with a wait for a partial line). */
  async step(o: StepOptions): Promise<Step> {
    if (!this.#fh) {
      const opened = await this.#open();
      if (opened) return opened;
      if (!this.#fh) return IDLE;
    }
    // after a full read there is more to come: skip the fstat (a size, not a guarantee; read() tells)
    const size = this.#knownSize > this.off ? this.#knownSize : (await this.#fh.stat()).size;
    this.#knownSize = size;
    if (size < this.off) {
      this.off = 0;
      return { kind: "truncate" };
    }
    if (size > this.off) return this.#read(size, o);
    return this.#checkRotation();
  }

  async #read(size: number, o: StepOptions): Promise<Step> {
    const want = Math.min(o.max, size - this.off);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await (this.#fh as FileHandle).read(buf, 0, want, this.off);
    const got = buf.subarray(0, bytesRead);
    if (bytesRead < want) this.#knownSize = 0; // shrank under us: stat again next time
    if (bytesRead === 0) return IDLE;
    if (this.#pendingAt !== this.off) {
      this.#pendingAt = this.off;
      this.#pendingSince = o.now;
    }
    const waited = o.now - this.#pendingSince;
    const n = sendableLength(got, bytesRead === o.max, !o.follow || waited >= o.flushMs);
    if (n === 0) return { kind: "idle", waitMs: Math.max(1, o.flushMs - waited) };
    this.off += n;
    return { kind: "data", bytes: got.subarray(0, n) };
  }

  async #checkRotation(): Promise<Step> {
    let ino: string;
    try {
      ino = (await fsp.lstat(this.path, { bigint: true })).ino.toString();
    } catch {
      return IDLE; // gone for now: keep the old file until a new one appears
    }
    if (ino === this.ino) return IDLE;
    await this.close();
    this.off = 0;
    return (await this.#open()) ?? IDLE;
  }

  /** Opens the file (no symlinks, regular files only); a different inode than the id's is a rotation. */
  async #open(): Promise<Step | undefined> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      await fh.close();
      return undefined;
    }
    this.#fh = fh;
    const ino = st.ino.toString();
    const rotated = this.ino !== "0" && this.ino !== ino;
    this.ino = ino;
    if (rotated || Number(st.size) < this.off) {
      this.off = 0;
      return { kind: rotated ? "rotate" : "truncate" };
    }
    return undefined;
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    this.#knownSize = 0;
    await fh?.close().catch(() => undefined);
  }
}

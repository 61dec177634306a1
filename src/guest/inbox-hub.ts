// Shared by all stream sessions: which run is current (one readlink per tick, not per
// client), a poll tick (inotify misses host writes under virtiofs), fs.watch on the run
// dirs being followed (low latency where it works), and the ping clock.
import { promises as fsp, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { STREAM_FILES } from "../core/sse.js";
import { resolveCurrentRun } from "./runs.js";

/** What the hub drives: a session wakes on poke, pings on the ping clock. */
export interface Subscriber {
  poke(): void;
  ping(now: number): void;
  checkStall(now: number): void;
}

interface DirWatch {
  watcher: FSWatcher | undefined;
  subs: Set<Subscriber>;
  sig: string;
}

/** inode, size and mtime of the run's log files: a change means its followers have work. */
async function signatureOf(dir: string): Promise<string> {
  const parts = await Promise.all(
    Object.values(STREAM_FILES).map((f) =>
      fsp.lstat(join(dir, f)).then(
        (st) => `${st.ino}/${st.size}/${st.mtimeMs}`,
        () => "-",
      ),
    ),
  );
  return parts.join(" ");
}

/** The hub for one inbox. start() before use, close() to stop its timers and watchers. */
export class InboxHub {
  current: string | null = null;
  readonly #subs = new Set<Subscriber>();
  readonly #dirs = new Map<string, DirWatch>();
  readonly #timers: NodeJS.Timeout[] = [];
  #inboxWatch: FSWatcher | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(
    readonly inbox: string,
    readonly pollMs: number,
    readonly pingMs: number,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.#timers.push(setInterval(() => void this.#tick(), this.pollMs));
    this.#timers.push(setInterval(() => this.#each((s) => s.ping(Date.now())), this.pingMs));
    this.#inboxWatch = tryWatch(
      this.inbox,
      () => void this.refresh().then(() => this.#each((s) => s.poke())),
    );
  }

  /** Re-reads `current`; concurrent callers share one readlink. */
  refresh(): Promise<void> {
    this.#refreshing ??= resolveCurrentRun(this.inbox).then((run) => {
      this.current = run;
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Polls: pokes everyone when `current` moved, else only the followers of a run dir whose files changed. */
  async #tick(): Promise<void> {
    const before = this.current;
    await this.refresh();
    const now = Date.now();
    this.#each((s) => s.checkStall(now));
    if (this.current !== before) return this.#each((s) => s.poke());
    for (const [dir, w] of this.#dirs) {
      const sig = await signatureOf(dir);
      if (sig !== w.sig) w.subs.forEach((s) => s.poke());
      w.sig = sig;
    }
  }

  #each(fn: (s: Subscriber) => void): void {
    for (const s of this.#subs) fn(s);
  }

  add(s: Subscriber): void {
    this.#subs.add(s);
  }

  remove(s: Subscriber): void {
    this.#subs.delete(s);
  }

  /** Pokes `s` whenever something in `dir` changes (as far as inotify can tell). */
  watchDir(dir: string, s: Subscriber): void {
    let w = this.#dirs.get(dir);
    if (!w) {
      const entry: DirWatch = { watcher: undefined, subs: new Set(), sig: "" };
      entry.watcher = tryWatch(dir, () => entry.subs.forEach((sub) => sub.poke()));
      this.#dirs.set(dir, (w = entry));
    }
    w.subs.add(s);
  }

  unwatchDir(dir: string, s: Subscriber): void {
    const w = this.#dirs.get(dir);
    if (!w) return;
    w.subs.delete(s);
    if (w.subs.size === 0) {
      w.watcher?.close();
      this.#dirs.delete(dir);
    }
  }

  close(): void {
    this.#timers.forEach((t) => clearInterval(t));
    this.#inboxWatch?.close();
    for (const w of this.#dirs.values()) w.watcher?.close();
    this.#dirs.clear();
  }
}

function tryWatch(dir: string, onChange: () => void): FSWatcher | undefined {
  try {
    const w = watch(dir, { persistent: false }, onChange);
    w.on("error", () => w.close()); // dir removed: the poll tick still covers it
    return w;
  } catch {
    return undefined;
  }
}

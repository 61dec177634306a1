// A per-key lock file under <state-dir>/locks/: created with O_EXCL and stamped with the
// holder's pid, so a second holder waits; a lock whose pid is dead is stale and is broken
// (under a short-lived ".break" guard, so two waiters never break each other's fresh lock).
import { constants, promises as fsp } from "node:fs";
import { dirname, join } from "node:path";
import { ensureDir, ensureStateDir } from "./fs.js";
import type { HeldLock, LockAttempt } from "../host/host.js";

export type { HeldLock, LockAttempt };

export interface LockOptions {
  waitMs?: number;
  pollMs?: number;
  /** Tells whether a pid is alive; the default asks the kernel (signal 0). */
  isAlive?: (pid: number) => boolean;
}

const BREAK_GUARD_STALE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await fh.writeFile(`${process.pid}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

async function readHolder(path: string): Promise<number | undefined | null> {
  try {
    const text = await fsp.readFile(path, "utf8");
    const pid = Number(text.trim().split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null; // released meanwhile
    throw err;
  }
}

/** Removes the lock at `path` if it still names `deadPid`; guarded so only one breaker acts. */
async function breakStale(path: string, deadPid: number | undefined): Promise<void> {
  const guard = `${path}.break`;
  if (!(await tryCreate(guard))) {
    const st = await fsp.stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > BREAK_GUARD_STALE_MS) await fsp.rm(guard, { force: true });
    return;
  }
  try {
    if ((await readHolder(path)) === deadPid) await fsp.rm(path, { force: true });
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

/** Takes the lock `<locksDir>/<key>.lock`, waiting up to waitMs; reports the holder when busy. */
export async function acquireLock(
  locksDir: string,
  key: string,
  opts: LockOptions = {},
): Promise<LockAttempt> {
  const path = join(locksDir, `${key}.lock`);
  const alive = opts.isAlive ?? pidAlive;
  const deadline = Date.now() + (opts.waitMs ?? 5000);
  await ensureStateDir(dirname(locksDir));
  await ensureDir(locksDir, 0o700);
  for (;;) {
    if (await tryCreate(path)) return { ok: true, lock: { path, release: () => releaseLock(path) } };
    const holder = await readHolder(path);
    if (holder === null) continue;
    if (holder === undefined || !alive(holder)) {
      // An empty lock may be a holder between create and write: only break it once it is old.
      const st = await fsp.stat(path).catch(() => undefined);
      if (holder !== undefined || (st && Date.now() - st.mtimeMs > 2000)) {
        if (Date.now() >= deadline + 1000) return { ok: false, holder, path };
        await breakStale(path, holder);
        await sleep(10);
        continue;
      }
    }
    if (Date.now() >= deadline) return { ok: false, holder, path };
    await sleep(opts.pollMs ?? 100);
  }
}

async function releaseLock(path: string): Promise<void> {
  if ((await readHolder(path)) === process.pid) await fsp.rm(path, { force: true });
}

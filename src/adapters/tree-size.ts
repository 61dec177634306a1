// Bytes on disk of a guest-written tree, walked in-process without following symlinks:
// every folder is opened O_NOFOLLOW|O_DIRECTORY beneath its parent's fd, every entry is
// lstat'ed beneath that fd, other devices are skipped and hardlinks counted once. Anything
// that vanishes or changes mid-walk is skipped. Used when du cannot finish (a racing guest
// can make GNU du 9.1 abort), so a guest cannot make sizing fail.
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { beneath, openDirNoFollow } from "./safe-open.js";

/** Folders deeper than this are not descended into (each level holds one fd open). */
export const MAX_WALK_DEPTH = 200;

interface Walk {
  dev: number;
  seen: Set<string>;
  report: number;
  out: Map<string, number>;
}

async function sizeOfDir(w: Walk, dir: FileHandle, path: string, level: number): Promise<number> {
  let total = (await dir.stat()).blocks * 512;
  const names = await fsp.readdir(beneath(dir)).catch(() => [] as string[]);
  const stats = await Promise.all(names.map((n) => fsp.lstat(beneath(dir, n)).catch(() => undefined)));
  for (let i = 0; i < names.length; i++) {
    const st = stats[i];
    if (!st || st.dev !== w.dev) continue;
    if (st.isDirectory()) {
      if (level >= MAX_WALK_DEPTH) continue;
      const sub = await openDirNoFollow(beneath(dir, names[i])).catch(() => undefined);
      if (!sub) continue;
      try {
        total += await sizeOfDir(w, sub, join(path, names[i] as string), level + 1);
      } finally {
        await sub.close();
      }
    } else if (st.nlink > 1) {
      const key = `${st.ino}`;
      if (!w.seen.has(key)) total += st.blocks * 512;
      w.seen.add(key);
    } else total += st.blocks * 512;
  }
  if (level <= w.report) w.out.set(path, total);
  return total;
}

/** Like `du -x -B1 --max-depth=report ROOT`: path → bytes for ROOT and folders down to `report`. */
export async function walkTreeSizes(root: string, report: number): Promise<Map<string, number>> {
  const dir = await openDirNoFollow(root);
  try {
    const w: Walk = { dev: (await dir.stat()).dev, seen: new Set(), report, out: new Map() };
    await sizeOfDir(w, dir, root, 0);
    return w.out;
  } finally {
    await dir.close();
  }
}

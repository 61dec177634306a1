// A new directory written whole or not at all: its files go into a temporary sibling, which is
// renamed into place at the end. For output an operator asked for (`render -o DIR`).
import { promises as fsp } from "node:fs";
import { dirname, join } from "node:path";
import { DataError } from "../errors.js";
import { ensureDir, fsyncDir, lstatOrUndefined, tempNameFor, writeFileAtomic } from "./fs.js";

export interface NewFile {
  /** Relative to the directory, `/`-separated; folders on the way are made 0700. */
  path: string;
  content: string;
  mode: number;
}

/** Refuses a path that exists as anything but an empty directory (a symlink is not one). */
export async function checkNewDir(dir: string, flag: string): Promise<void> {
  const st = await lstatOrUndefined(dir);
  if (!st) return;
  const hint = `pass ${flag} a new directory, or remove this one first`;
  if (!st.isDirectory()) throw new DataError(`${flag} ${dir} exists and is not a directory`, { hint });
  if ((await fsp.readdir(dir)).length) throw new DataError(`${flag} ${dir} is not empty`, { hint });
}

/** Writes `files` as the directory `dir` (checked with checkNewDir first); returns their paths. */
export async function writeNewDir(dir: string, flag: string, files: readonly NewFile[]): Promise<string[]> {
  await checkNewDir(dir, flag);
  const tmp = tempNameFor(dir);
  await ensureDir(tmp, 0o700);
  try {
    for (const f of files) {
      const parts = f.path.split("/");
      for (let i = 1; i < parts.length; i++) await ensureDir(join(tmp, ...parts.slice(0, i)), 0o700);
      await writeFileAtomic(join(tmp, ...parts), f.content, f.mode);
    }
    await fsyncDir(tmp);
    if (await lstatOrUndefined(dir)) await fsp.rmdir(dir); // empty: checked above
    await fsp.rename(tmp, dir);
    await fsyncDir(dirname(dir));
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return files.map((f) => join(dir, ...f.path.split("/")));
}

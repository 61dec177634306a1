// Opening paths inside guest-written trees without ever following a symlink: each
// directory is opened with O_NOFOLLOW|O_DIRECTORY and the next component is resolved
// beneath its fd (via /proc/self/fd/N, the openat() equivalent Node can reach), so a
// component swapped for a symlink mid-walk fails instead of leading outside the tree.
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { DataError, NotFoundError } from "../errors.js";

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The path that names `name` inside the directory open as `dir`, immune to renames of its parents. */
export const beneath = (dir: FileHandle, name = ""): string =>
  `/proc/self/fd/${dir.fd}${name ? `/${name}` : ""}`;

function explain(err: unknown, what: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new NotFoundError(`${what} does not exist`);
  if (code === "ELOOP") return new DataError(`${what} is a symlink; refusing to follow it`);
  if (code === "ENOTDIR") return new DataError(`${what} is not a directory`);
  if (code === "ENXIO") return new DataError(`${what} is not a regular file (a FIFO or socket)`);
  return err as Error;
}

/** Opens a directory, refusing a symlink in the last component. */
export async function openDirNoFollow(path: string, what = path): Promise<FileHandle> {
  try {
    return await fsp.open(path, DIR_FLAGS);
  } catch (err) {
    // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR: say which it was
    const code = (err as NodeJS.ErrnoException).code;
    const link = code === "ENOTDIR" && (await fsp.lstat(path).catch(() => undefined))?.isSymbolicLink();
    throw link ? new DataError(`${what} is a symlink; refusing to follow it`) : explain(err, what);
  }
}

/** Opens a regular file, refusing a symlink, FIFO, device or directory in the last component. */
export async function openFileNoFollow(path: string, what = path): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(path, FILE_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new DataError(`${what} is a directory, not a regular file`);
    throw explain(err, what);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new DataError(`${what} is not a regular file`);
  }
  return fh;
}

/**
 * Opens `parts` (already checked: no "..", no empty parts) beneath the directory `root`,
 * one component at a time, refusing symlinks and non-directories on the way and a
 * non-regular file at the end. `label` names the path in errors.
 */
export async function openFileBeneath(
  root: string,
  parts: readonly string[],
  label: string,
): Promise<FileHandle> {
  let dir = await openDirNoFollow(root, label);
  try {
    for (let i = 0; i < parts.length - 1; i++) {
      const next = await openDirNoFollow(
        beneath(dir, parts[i]),
        `${label}: component "${parts.slice(0, i + 1).join("/")}"`,
      );
      await dir.close();
      dir = next;
    }
    return await openFileNoFollow(beneath(dir, parts[parts.length - 1]), label);
  } finally {
    await dir.close();
  }
}

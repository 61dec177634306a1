// File-system helpers with the guarantees the rest of the program relies on:
// atomic replacement, no following of symlinks in guest-writable places, bounded reads.
import { constants, promises as fsp } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { DataError } from "../errors.js";

/** fsyncs a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A temp name beside `path`, in the same folder (so a rename is atomic). */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * Writes `data` to `path` atomically: temp file in the same folder, fsync, rename, fsync folder.
 * A reader sees the old content or the new, never a mix; a crash leaves at most a dot-temp file.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  owner?: { uid: number; gid: number },
): Promise<void> {
  const tmp = tempNameFor(path);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(mode); // after chown, which may clear setuid/setgid bits
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates a directory with `mode` unless it exists; never follows or replaces a symlink.
 * Returns true when it created it. An existing non-directory is a DataError.
 */
export async function ensureDir(path: string, mode: number): Promise<boolean> {
  try {
    await fsp.mkdir(path, { mode });
    await fsp.chmod(path, mode); // mkdir's mode is filtered by the umask
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const st = await fsp.lstat(path);
    if (!st.isDirectory())
      throw new DataError(
        `${path} exists but is not a directory${st.isSymbolicLink() ? " (it is a symlink)" : ""}`,
        {
          hint: "move it out of the way, then run the command again",
        },
      );
    return false;
  }
}

/**
 * The state dir's mode: 0711, not 0700, because QEMU runs as libvirt-qemu and must traverse it to
 * an agent's disk and seed ISO; others cannot list it, and every secret inside is a 0600 file.
 */
export const STATE_DIR_MODE = 0o711;

/**
 * Creates the state dir with STATE_DIR_MODE (its missing parents 0755) unless it exists: the one
 * function every verb makes it with, so its mode does not depend on which verb ran first.
 * Returns true when it created it.
 */
export async function ensureStateDir(stateDir: string): Promise<boolean> {
  await fsp.mkdir(dirname(stateDir), { recursive: true, mode: 0o755 });
  return ensureDir(stateDir, STATE_DIR_MODE);
}

/** lstat that returns undefined for a missing path. */
export async function lstatOrUndefined(path: string) {
  try {
    return await fsp.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Reads a small regular file that an untrusted guest may have written: refuses symlinks
 * (O_NOFOLLOW), FIFOs and devices (O_NONBLOCK + fstat), and reads at most `maxBytes`.
 * Returns undefined when the file does not exist or is not a regular file.
 */
export async function readGuestFile(path: string, maxBytes = 64 * 1024): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ELOOP" || code === "ENXIO") return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(maxBytes, Math.max(st.size, 0)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

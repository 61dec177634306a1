// One-pass copy: read the source once, hash it (sha256) while writing a temp file in the
// destination folder, fsync, then move it into place atomically (rename) or, when the
// destination must not be replaced, link(2) it there, which fails if the name exists.
// A source that changes during the copy (fstat before and after: size, mtime, ctime; and the
// bytes read against the final size) is refused: a half-written file is never placed.
import { createHash } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { BigIntStats } from "node:fs";
import { DataError, TempFailError } from "../errors.js";
import { fsyncDir, tempNameFor } from "./fs.js";
import type { HashCopyOptions, HashCopyResult } from "../host/host.js";

const CHUNK = 4 * 1024 * 1024;

export type { HashCopyOptions, HashCopyResult };

/**
 * Reads, hashes and writes with three rotating buffers so the next read and the previous
 * write (both on libuv's thread pool) overlap the hashing of the current chunk. A buffer is
 * reused only after the write that used it has completed.
 */
async function pump(src: FileHandle, dst: FileHandle, maxBytes: number): Promise<HashCopyResult> {
  const hash = createHash("sha256");
  const bufs = [0, 1, 2].map(() => Buffer.allocUnsafe(CHUNK));
  let size = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let reading = src.read(bufs[0] as Buffer, 0, CHUNK, null);
  for (let i = 0; ; i++) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) break;
    size += bytesRead;
    if (size > maxBytes) {
      await writing; // never leave a write in flight on a handle the caller is about to close
      throw new DataError(`source is larger than the limit of ${maxBytes} bytes`);
    }
    const chunk = (bufs[i % 3] as Buffer).subarray(0, bytesRead);
    reading = src.read(bufs[(i + 1) % 3] as Buffer, 0, CHUNK, null);
    hash.update(chunk);
    await writing;
    writing = dst.write(chunk, 0, bytesRead, null);
  }
  await writing;
  return { sha256: hash.digest("hex"), size };
}

/** Refuses a copy whose source changed between the two fstat calls, or whose length read differs. */
function checkUnchanged(before: BigIntStats, after: BigIntStats, read: number, label: string): void {
  const what =
    before.size !== after.size || BigInt(read) !== after.size
      ? `its size went from ${before.size} to ${after.size} bytes (${read} read)`
      : before.mtimeNs !== after.mtimeNs || before.ctimeNs !== after.ctimeNs
        ? "it was modified (mtime/ctime changed)"
        : undefined;
  if (what)
    throw new TempFailError(`${label} changed while it was being copied: ${what}; nothing was published`, {
      hint: "something is still writing it: wait until it is finished (for a run, until its metrics.json exists) and try again",
    });
}

/** Copies `src` (an open regular file) to `dest`; see the module comment for the guarantees. */
export async function copyHashed(
  src: FileHandle,
  dest: string,
  opts: HashCopyOptions,
): Promise<HashCopyResult> {
  const tmp = tempNameFor(dest);
  const dst = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let result: HashCopyResult;
  try {
    const before = await src.stat({ bigint: true });
    result = await pump(src, dst, opts.maxBytes ?? Number.MAX_SAFE_INTEGER);
    await dst.chmod(opts.mode);
    await dst.sync();
    checkUnchanged(before, await src.stat({ bigint: true }), result.size, opts.label ?? "the source");
    await opts.beforePlace?.(result);
  } catch (err) {
    await dst.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await dst.close();
  await placeFile(tmp, dest, opts);
  await fsyncDir(dirname(dest));
  return result;
}

/** Moves a finished temp file to `dest`: rename when replacing, else link(2) (EEXIST → DataError). */
export async function placeFile(
  tmp: string,
  dest: string,
  opts: Pick<HashCopyOptions, "replace" | "existsHint">,
): Promise<void> {
  try {
    if (opts.replace) await fsp.rename(tmp, dest);
    else await fsp.link(tmp, dest);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new DataError(`${dest} already exists`, {
        hint: opts.existsHint ?? "pass --force to replace it",
      });
    throw err;
  }
  if (!opts.replace) await fsp.rm(tmp, { force: true });
}

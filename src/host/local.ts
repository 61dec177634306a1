// The Host of this machine: today's local code (node:fs and the adapters that guard guest-written
// trees) behind the seam. The adapters stay where they are, one concern each; this file only
// wires them to the interface and converts Node's fds and Stats into the seam's own types.
import { createReadStream, constants, promises as fsp, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import type { Duplex } from "node:stream";
import { freeLoopbackPorts } from "../adapters/ports.js";
import { appendLinesLocal } from "../adapters/audit.js";
import { measureTree } from "../adapters/du.js";
import {
  ensureDir,
  ensureStateDir,
  lstatOrUndefined,
  readGuestFile,
  writeFileAtomic,
} from "../adapters/fs.js";
import { copyHashed } from "../adapters/hash-copy.js";
import { fsSpace, loopBackingFile } from "../adapters/inbox-fs.js";
import { acquireLock } from "../adapters/lock.js";
import { loadMountinfo, probeWrite } from "../adapters/mount.js";
import type { Runner } from "../adapters/runner.js";
import { makeTrashBatch, moveIntoTrash, removeTree, sweepTrash } from "../adapters/safe-delete.js";
import { beneath, openDirNoFollow, openFileBeneath, openFileNoFollow } from "../adapters/safe-open.js";
import { DataError, InternalError } from "../errors.js";
import type { FileKind, Host, HostDir, HostDirent, HostReadFile, HostStat } from "./host.js";

const kindOf = (s: Pick<Stats, "isFile" | "isDirectory" | "isSymbolicLink">): FileKind =>
  s.isFile() ? "file" : s.isDirectory() ? "dir" : s.isSymbolicLink() ? "symlink" : "other";

/** Node's Stats as the seam's HostStat. */
export const hostStatOf = (s: Stats): HostStat => ({
  kind: kindOf(s),
  size: s.size,
  mode: s.mode & 0o7777,
  uid: s.uid,
  gid: s.gid,
  dev: s.dev,
  ino: s.ino,
  nlink: s.nlink,
  diskBytes: s.blocks * 512,
  mtimeMs: s.mtimeMs,
});

const orUndefined = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });

/** A file this host opened; the handle stays here, ops see only its size and bytes. */
class LocalReadFile implements HostReadFile {
  constructor(
    readonly fh: FileHandle,
    readonly size: number,
  ) {}
  chunks(): AsyncIterable<Uint8Array> {
    return this.fh.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Uint8Array>;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

const readFileOf = async (fh: FileHandle) => new LocalReadFile(fh, (await fh.stat()).size);

function handleOf(f: HostReadFile): FileHandle {
  if (f instanceof LocalReadFile) return f.fh;
  throw new InternalError("a file opened on another host was given to the local host");
}

class LocalDir implements HostDir {
  constructor(
    readonly fh: FileHandle,
    readonly dev: number,
  ) {}
  async entries(): Promise<HostDirent[]> {
    const list = await fsp.readdir(beneath(this.fh), { withFileTypes: true });
    return list.map((e) => ({ name: e.name, kind: kindOf(e) }));
  }
  async lstat(rel: string): Promise<HostStat | undefined> {
    const st = await orUndefined(fsp.lstat(beneath(this.fh, rel)));
    return st && hostStatOf(st);
  }
  async moveIntoTrash(
    moves: readonly { name: string; into: string }[],
    dev: number,
    isVictimName: (name: string) => boolean,
  ) {
    // synchronous pairs of lstat(2) + rename(2): see moveIntoTrash in adapters/safe-delete.ts
    return moves.map((m) => moveIntoTrash(this.fh, m.name, m.into, dev, isVictimName));
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

const ACCESS = {
  exists: constants.F_OK,
  read: constants.R_OK,
  write: constants.W_OK,
  readwrite: constants.R_OK | constants.W_OK,
  exec: constants.X_OK,
} as const;

/** The Host of the machine agentshare runs on; `run` is its Runner (execa). */
export function localHost(run: Runner): Host {
  return {
    name: "local",
    run,
    tmpDir: tmpdir(),
    readFile: (path) => fsp.readFile(path),
    readText: (path) => fsp.readFile(path, "utf8"),
    async readHead(path, maxBytes) {
      const fh = await orUndefined(fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK));
      if (!fh) return undefined;
      try {
        if (!(await fh.stat()).isFile()) throw new DataError(`${path} is not a regular file`);
        const buf = Buffer.alloc(maxBytes);
        const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    async readTail(path, maxBytes) {
      const fh = await fsp.open(path, "r").catch(() => undefined);
      if (!fh) return undefined;
      try {
        const { size } = await fh.stat();
        const len = Math.min(size, maxBytes);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, size - len);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    async writeFile(path, data, mode) {
      await fsp.writeFile(path, data, { mode });
      await fsp.chmod(path, mode);
    },
    writeFileAtomic: (path, data, mode, owner) => writeFileAtomic(path, data, mode, owner),
    appendLines: (path, lines, mode) => appendLinesLocal(path, lines, mode),
    async createSparse(path, bytes, mode) {
      const fh = await fsp.open(path, "wx", mode);
      try {
        await fh.truncate(bytes);
      } finally {
        await fh.close();
      }
    },
    truncate: (path, bytes) => fsp.truncate(path, bytes),
    async mkdir(path, opts) {
      await fsp.mkdir(path, opts);
    },
    ensureDir,
    ensureStateDir,
    mkdtemp: (prefix) => fsp.mkdtemp(prefix),
    chmod: (path, mode) => fsp.chmod(path, mode),
    chown: (path, o) => fsp.lchown(path, o.uid, o.gid),
    lstat: async (path) => {
      const st = await lstatOrUndefined(path);
      return st && hostStatOf(st);
    },
    stat: async (path) => {
      const st = await orUndefined(fsp.stat(path));
      return st && hostStatOf(st);
    },
    access: (path, mode) =>
      fsp.access(path, ACCESS[mode]).then(
        () => true,
        () => false,
      ),
    async readdir(path) {
      const list = await fsp.readdir(path, { withFileTypes: true });
      return list.map((e) => ({ name: e.name, kind: kindOf(e) }));
    },
    readlink: (path) =>
      fsp.readlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        if (err.code === "EINVAL") return null;
        throw err;
      }),
    realpath: (path) => fsp.realpath(path),
    rename: (from, to) => fsp.rename(from, to),
    copyFile: (from, to) => fsp.copyFile(from, to),
    symlink: (target, path) => fsp.symlink(target, path),
    rm: (path, opts) => fsp.rm(path, opts),
    rmdir: (path) =>
      fsp.rmdir(path).then(
        () => true,
        () => false,
      ),
    async fsync(path) {
      const fh = await fsp.open(path, constants.O_RDONLY);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async hashFile(path) {
      const h = createHash("sha256");
      for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
      return h.digest("hex");
    },
    statfs: fsSpace,
    readGuestFile,
    openFileNoFollow: async (path, label) => readFileOf(await openFileNoFollow(path, label)),
    openFileBeneath: async (root, parts, label) => readFileOf(await openFileBeneath(root, parts, label)),
    async openDirNoFollow(path, label) {
      const fh = await openDirNoFollow(path, label);
      return new LocalDir(fh, (await fh.stat()).dev);
    },
    copyHashed: (src, dest, opts) => copyHashed(handleOf(src), dest, opts),
    measureTree: (dir, depth) => measureTree(run, dir, depth),
    removeTree: (dir, attempts) => removeTree(run, dir, attempts),
    makeTrashBatch,
    sweepTrash: (trash, prefix) => sweepTrash(run, trash, prefix),
    probeWrite,
    mountinfo: () => loadMountinfo(run),
    loopBackingFile,
    acquireLock: (locksDir, key, opts) => acquireLock(locksDir, key, opts),
    freeLoopbackPorts,
    connectTcp: (address, port) =>
      new Promise<Duplex>((resolve, reject) => {
        const sock = connect({ host: address, port });
        sock.once("connect", () => {
          sock.removeListener("error", reject);
          resolve(sock);
        });
        sock.once("error", reject);
      }),
  };
}

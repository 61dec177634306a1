// A Host whose whole file system is a folder of another host: every host path /x is <base>/x
// there, and paths coming back (realpath, mkdtemp, trash batches, sizes, locks, mount points)
// are mapped back. It runs no tools of its own (their argv cannot be mapped): the Host methods
// that use tools (removeTree, measureTree, mountinfo) run the inner host's with mapped paths.
// Used to prove the seam is complete (test/unit/host-seam.test.ts): an op that did host work
// around the seam would touch the real path instead, outside <base>.
import { isAbsolute, join, relative } from "node:path";
import type { MountEntry } from "../core/mountinfo.js";
import { InternalError, UsageError } from "../errors.js";
import type { Host, HostDir } from "./host.js";

/** `inner`'s folder `base` as a host of its own. */
export function rootedHost(base: string, inner: Host): Host {
  if (!isAbsolute(base)) throw new UsageError(`rooted host base ${JSON.stringify(base)} must be absolute`);
  const to = (p: string): string => {
    if (!isAbsolute(p)) throw new InternalError(`host path ${JSON.stringify(p)} is not absolute`);
    return join(base, p);
  };
  /** A path of the inner host as this host names it; undefined when it is outside `base`. */
  const fromInner = (p: string): string | undefined => {
    const rel = relative(base, p);
    if (rel === "") return "/";
    return rel.startsWith("..") || isAbsolute(rel) ? undefined : `/${rel}`;
  };
  const back = (p: string): string => {
    const mine = fromInner(p);
    if (mine === undefined) throw new InternalError(`${p} is outside the rooted host's base ${base}`);
    return mine;
  };
  const mountsBack = (entries: MountEntry[]): MountEntry[] =>
    entries.flatMap((e) => {
      const mountPoint = fromInner(e.mountPoint);
      return mountPoint === undefined ? [] : [{ ...e, mountPoint }];
    });
  const dirBack = (d: HostDir): HostDir => ({
    dev: d.dev,
    entries: () => d.entries(),
    lstat: (rel) => d.lstat(rel),
    moveIntoTrash: (moves, dev, isVictimName) =>
      d.moveIntoTrash(
        moves.map((m) => ({ name: m.name, into: to(m.into) })),
        dev,
        isVictimName,
      ),
    close: () => d.close(),
  });
  return asyncOnly({
    name: `${inner.name} (rooted at ${base})`,
    run: async (file) => {
      throw new InternalError(`a rooted host runs no tools (asked for ${file})`, {
        hint: "ask the host seam for the operation instead of running a tool on host paths",
      });
    },
    tmpDir: "/tmp",
    readFile: (p) => inner.readFile(to(p)),
    readText: (p) => inner.readText(to(p)),
    readHead: (p, n) => inner.readHead(to(p), n),
    readTail: (p, n) => inner.readTail(to(p), n),
    writeFile: (p, data, mode) => inner.writeFile(to(p), data, mode),
    writeFileAtomic: (p, data, mode, owner) => inner.writeFileAtomic(to(p), data, mode, owner),
    appendLines: (p, lines, mode) => inner.appendLines(to(p), lines, mode),
    createSparse: (p, bytes, mode) => inner.createSparse(to(p), bytes, mode),
    truncate: (p, bytes) => inner.truncate(to(p), bytes),
    mkdir: (p, opts) => inner.mkdir(to(p), opts),
    ensureDir: (p, mode) => inner.ensureDir(to(p), mode),
    ensureStateDir: (p) => inner.ensureStateDir(to(p)),
    mkdtemp: async (prefix) => back(await inner.mkdtemp(to(prefix))),
    chmod: (p, mode) => inner.chmod(to(p), mode),
    chown: (p, owner) => inner.chown(to(p), owner),
    lstat: (p) => inner.lstat(to(p)),
    stat: (p) => inner.stat(to(p)),
    access: (p, mode) => inner.access(to(p), mode),
    readdir: (p) => inner.readdir(to(p)),
    // a link's target is data (what the link says), not a path of this host: never mapped
    readlink: (p) => inner.readlink(to(p)),
    realpath: async (p) => back(await inner.realpath(to(p))),
    rename: (a, b) => inner.rename(to(a), to(b)),
    copyFile: (a, b) => inner.copyFile(to(a), to(b)),
    symlink: (target, p) => inner.symlink(target, to(p)),
    rm: (p, opts) => inner.rm(to(p), opts),
    rmdir: (p) => inner.rmdir(to(p)),
    fsync: (p) => inner.fsync(to(p)),
    hashFile: (p) => inner.hashFile(to(p)),
    statfs: (p) => inner.statfs(to(p)),
    readGuestFile: (p, n) => inner.readGuestFile(to(p), n),
    openFileNoFollow: (p, label) => inner.openFileNoFollow(to(p), label),
    openFileBeneath: (root, parts, label) => inner.openFileBeneath(to(root), parts, label),
    openDirNoFollow: async (p, label) => dirBack(await inner.openDirNoFollow(to(p), label)),
    copyHashed: (src, dest, opts) => inner.copyHashed(src, to(dest), opts),
    measureTree: async (dir, depth) =>
      new Map([...(await inner.measureTree(to(dir), depth))].map(([p, bytes]) => [back(p), bytes])),
    removeTree: (dir, attempts) => inner.removeTree(to(dir), attempts),
    makeTrashBatch: async (trash, root, dev, label) =>
      back(await inner.makeTrashBatch(to(trash), to(root), dev, label)),
    sweepTrash: (trash, prefix) => inner.sweepTrash(to(trash), prefix),
    probeWrite: (dir) => inner.probeWrite(to(dir)),
    mountinfo: async () => mountsBack(await inner.mountinfo()),
    loopBackingFile: async (device) => {
      const file = await inner.loopBackingFile(device);
      return file === undefined ? undefined : fromInner(file);
    },
    acquireLock: async (locksDir, key, opts) => {
      const a = await inner.acquireLock(to(locksDir), key, opts);
      return a.ok
        ? { ok: true, lock: { path: back(a.lock.path), release: a.lock.release } }
        : { ...a, path: back(a.path) };
    },
    freeLoopbackPorts: (n) => inner.freeLoopbackPorts(n),
    connectTcp: (address, port) => inner.connectTcp(address, port),
  });
}

/** Every method returns a promise, even when mapping a path throws (a Host never throws synchronously). */
function asyncOnly(h: Host): Host {
  const out: Record<string, unknown> = { ...h };
  for (const [k, v] of Object.entries(h))
    if (typeof v === "function")
      out[k] = async (...args: unknown[]) => (v as (...a: unknown[]) => unknown)(...args);
  return out as unknown as Host;
}

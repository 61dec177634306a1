// The host seam: everything an op asks of the VM host's file system and tools. Ops hold a Host
// (ctx.host) and never node:fs or node:child_process (ESLint enforces it), so the same op runs
// against this machine (localHost, src/host/local.ts) or a remote one (over SSH/SFTP, next).
// Shaped for that: async everything, host paths as strings, plain result types (no Node fds or
// Stats), file contents streamed where they can be large. Paths are trusted host paths unless a
// method says it guards against a guest-written tree.
import type { MountEntry } from "../core/mountinfo.js";
import type { Duplex } from "node:stream";
import type { Runner } from "../adapters/runner.js";

export type FileKind = "file" | "dir" | "symlink" | "other";

/** What lstat/stat tell about a path. */
export interface HostStat {
  kind: FileKind;
  size: number;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
  nlink: number;
  /** Bytes on disk (st_blocks × 512). */
  diskBytes: number;
  mtimeMs: number;
}

export interface HostDirent {
  name: string;
  kind: FileKind;
}

/** Space of a file system, from statfs(2). */
export interface FsSpace {
  sizeBytes: number;
  usedBytes: number;
  availBytes: number;
  inodes: number;
  inodesFree: number;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** A regular file opened for reading without following a symlink (a guest cannot swap it afterwards). */
export interface HostReadFile {
  readonly size: number;
  /** Its bytes from the start, in chunks (streamed: it may be large). */
  chunks(): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export type MoveOutcome = { moved: true } | { moved: false; why: string; vanished?: boolean };

/** A directory opened without following a symlink; names are resolved beneath it, never by path. */
export interface HostDir {
  readonly dev: number;
  entries(): Promise<HostDirent[]>;
  /** lstat of `rel` (e.g. "run-x/metrics.json") beneath this directory; undefined when missing. */
  lstat(rel: string): Promise<HostStat | undefined>;
  /**
   * Moves each entry `name` into the folder `into` with rename(2), after checking beneath this
   * directory that the name passes `isVictimName` and that it is a real directory on `dev`.
   */
  moveIntoTrash(
    moves: readonly { name: string; into: string }[],
    dev: number,
    isVictimName: (name: string) => boolean,
  ): Promise<MoveOutcome[]>;
  close(): Promise<void>;
}

export interface HashCopyOptions {
  mode: number;
  /** Replace an existing destination atomically; otherwise an existing one is a DataError. */
  replace: boolean;
  /** Refuse sources longer than this many bytes (checked while reading, so growth is caught). */
  maxBytes?: number;
  existsHint?: string;
  /** Names the source in errors, e.g. "staging/report.md". */
  label?: string;
  /** Runs after the temp file is complete and before it is placed; throwing discards it. */
  beforePlace?: (result: HashCopyResult) => void | Promise<void>;
}

export interface HashCopyResult {
  sha256: string;
  size: number;
}

export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

export type LockAttempt =
  { ok: true; lock: HeldLock } | { ok: false; holder: number | undefined; path: string };

export interface LockOptions {
  waitMs?: number;
  pollMs?: number;
}

export interface Host {
  /** "local", or the name of a remote host in the fleet (for messages). */
  readonly name: string;
  /** The host's tools (mount, virsh, qemu-img, rm, du, …): the one Runner. */
  run: Runner;
  /** The host's folder for temporary files (os.tmpdir() there). */
  tmpDir: string;

  // plain files and folders (host-made, trusted paths)
  readFile(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  /** The first `maxBytes` of a regular file (opened O_NONBLOCK: a FIFO cannot block); undefined when missing. */
  readHead(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /** Up to the last `maxBytes` of a file; undefined when it cannot be opened. */
  readTail(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /** Plain write (create or truncate) with `mode`. */
  writeFile(path: string, data: string | Uint8Array, mode: number): Promise<void>;
  /** Temp file beside it, fsync, rename, fsync folder: a reader sees old or new, never a mix. */
  writeFileAtomic(path: string, data: string | Uint8Array, mode: number, owner?: Owner): Promise<void>;
  /**
   * Appends whole lines with O_APPEND (created with `mode`); each line lands whole (adapters/audit.ts).
   * With no lines it only checks that the file can be opened for appending (creating it).
   */
  appendLines(path: string, lines: readonly string[], mode: number): Promise<void>;
  /** Creates a sparse file of `bytes` that must not exist yet. */
  createSparse(path: string, bytes: number, mode: number): Promise<void>;
  truncate(path: string, bytes: number): Promise<void>;
  mkdir(path: string, opts: { mode: number; recursive?: boolean }): Promise<void>;
  /** Creates a folder with `mode` unless it exists; never follows a symlink. True when it made it. */
  ensureDir(path: string, mode: number): Promise<boolean>;
  /** The state dir with its one mode (adapters/fs.ts STATE_DIR_MODE); true when it made it. */
  ensureStateDir(path: string): Promise<boolean>;
  /** A new empty folder `<prefix>XXXXXX`. */
  mkdtemp(prefix: string): Promise<string>;
  chmod(path: string, mode: number): Promise<void>;
  /** Changes the owner of the path itself (lchown: never a symlink's target). */
  chown(path: string, owner: Owner): Promise<void>;
  lstat(path: string): Promise<HostStat | undefined>;
  stat(path: string): Promise<HostStat | undefined>;
  access(path: string, mode: "exists" | "read" | "write" | "readwrite" | "exec"): Promise<boolean>;
  readdir(path: string): Promise<HostDirent[]>;
  /** The link's target; undefined when missing, null when the path is not a symlink. */
  readlink(path: string): Promise<string | undefined | null>;
  realpath(path: string): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  /** Removes a file (or, `recursive`, a host-made tree: never a guest-written one, see removeTree). */
  rm(path: string, opts?: { recursive?: boolean; force?: boolean }): Promise<void>;
  rmdir(path: string): Promise<boolean>;
  /** fsync(2) of a file or a folder (after a rename or create in it). */
  fsync(path: string): Promise<void>;
  /** sha256 of a file, streamed. */
  hashFile(path: string): Promise<string>;
  statfs(path: string): Promise<FsSpace>;

  // guest-written trees: never follow a symlink, never leave the file system
  /** A small regular file, at most `maxBytes`, refusing symlinks/FIFOs/devices; undefined when not one. */
  readGuestFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /** Opens a regular file, refusing a symlink in the last component. `label` names it in errors. */
  openFileNoFollow(path: string, label: string): Promise<HostReadFile>;
  /** Opens root/parts[0]/…, refusing a symlink or non-directory at every step. */
  openFileBeneath(root: string, parts: readonly string[], label: string): Promise<HostReadFile>;
  openDirNoFollow(path: string, label: string): Promise<HostDir>;
  /** One-pass copy of `src` to `dest`: sha256 while writing a temp file, fsync, rename (adapters/hash-copy.ts). */
  copyHashed(src: HostReadFile, dest: string, opts: HashCopyOptions): Promise<HashCopyResult>;
  /** Bytes on disk of `dir` and its folders down to `depth` (path → bytes): no symlinks, one device. */
  measureTree(dir: string, depth: number): Promise<Map<string, number>>;
  /** No-follow, one-file-system removal of a tree (retried); stderr of the last try on failure. */
  removeTree(dir: string, attempts?: number): Promise<{ ok: boolean; stderr: string }>;
  /** A fresh batch folder for deleted runs on the inbox's device (adapters/safe-delete.ts). */
  makeTrashBatch(trash: string, root: string, inboxDev: number, label: string): Promise<string>;
  /** Removes leftover `<prefix>*` batches in `trash`; names it could not remove. */
  sweepTrash(trash: string, prefix: string): Promise<string[]>;
  /** Tries to create a file in `dir`: the error code (e.g. "EROFS"), or undefined when it worked. */
  probeWrite(dir: string): Promise<string | undefined>;

  // mounts (mount/umount themselves are tools, through run)
  mountinfo(): Promise<MountEntry[]>;
  /** The image file behind a loop device such as /dev/loop3; undefined if none. */
  loopBackingFile(device: string): Promise<string | undefined>;

  // network, as seen from the host
  /** `n` distinct TCP ports free on the host's 127.0.0.1 right now (for `access: loopback`). */
  freeLoopbackPorts(n: number): Promise<number[]>;
  /**
   * A TCP connection from the host to `address:port` (a guest's forwarded port on the host's
   * loopback): locally a socket, remotely a channel through the host's sshd, so the controlling
   * machine needs no route to a guest.
   */
  connectTcp(address: string, port: number): Promise<Duplex>;

  // locks
  /** Takes `<locksDir>/<key>.lock` (O_EXCL, the holder's pid), waiting up to waitMs. */
  acquireLock(locksDir: string, key: string, opts?: LockOptions): Promise<LockAttempt>;
}

// The host helper: what the controlling machine runs on a remote VM host, over SSH, for the
// host seam's file work (src/host/remote.ts is the other end). It is this machine's own local
// host code (src/host/local.ts and the adapters that guard guest-written trees), so every
// guarantee that holds locally — no symlink followed, one file system, O_EXCL locks, fsync and
// rename — holds on the remote host for the same reason. It is no daemon: it reads requests on
// stdin for as long as the SSH session lasts, and exits (releasing its locks) when it ends.
// Bundled by scripts/build.mjs into one file (dist/host/host-helper.mjs) for the host's own Node
// (Debian 12: 18.19), with no runtime dependencies.
import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { fsyncDir, tempNameFor } from "../adapters/fs.js";
import { copyHashed, placeFile } from "../adapters/hash-copy.js";
import { freeLoopbackPorts } from "../adapters/ports.js";
import type { RunResult, Runner } from "../adapters/runner.js";
import { moveIntoTrash } from "../adapters/safe-delete.js";
import { beneath, openDirNoFollow, openFileBeneath, openFileNoFollow } from "../adapters/safe-open.js";
import { DataError } from "../errors.js";
import { encodeFrame, FrameReader, wireErrorOf, type WireRequest } from "../core/host-wire.js";
import type { HashCopyOptions, HashCopyResult, HeldLock, Host } from "./host.js";
import { hostStatOf, localHost } from "./local.js";

/** The version of this wire protocol; the controller refuses a helper that says another. */
export const HELPER_PROTOCOL = 1;

/** Runs a program here (the few tools localHost itself runs: du, rm, findmnt); no shell. */
const spawnRunner: Runner = (file, args, opts = {}) =>
  new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: opts.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        exitCode: code ?? undefined,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });

interface Upload {
  tmp: string;
  dest: string;
  fh: FileHandle;
  hash: Hash;
  size: number;
  maxBytes: number;
}

interface PendingCopy {
  decide: (place: boolean) => void;
  done: Promise<HashCopyResult>;
}

class Helper {
  private readonly host: Host = localHost(spawnRunner);
  private next = 1;
  private readonly files = new Map<number, FileHandle>();
  private readonly dirs = new Map<number, FileHandle>();
  private readonly uploads = new Map<number, Upload>();
  private readonly copies = new Map<number, PendingCopy>();
  private readonly locks = new Map<number, HeldLock>();

  private take<T>(map: Map<number, T>, h: unknown, what: string): T {
    const v = map.get(h as number);
    if (v === undefined) throw new Error(`host helper: no open ${what} with handle ${String(h)}`);
    return v;
  }

  private keep<T>(map: Map<number, T>, v: T): number {
    const h = this.next++;
    map.set(h, v);
    return h;
  }

  async call(m: string, a: unknown[]): Promise<unknown> {
    switch (m) {
      case "hello":
        return {
          protocol: HELPER_PROTOCOL,
          node: process.version,
          pid: process.pid,
          uid: process.getuid?.() ?? -1,
          tmpDir: tmpdir(),
        };
      case "file.openNoFollow":
      case "file.openBeneath": {
        const fh =
          m === "file.openNoFollow"
            ? await openFileNoFollow(a[0] as string, a[1] as string)
            : await openFileBeneath(a[0] as string, a[1] as string[], a[2] as string);
        const { size } = await fh.stat();
        return { h: this.keep(this.files, fh), size };
      }
      case "file.read": {
        const fh = this.take(this.files, a[0], "file");
        const buf = Buffer.allocUnsafe(Math.min(a[2] as number, 4 * 1024 * 1024));
        const { bytesRead } = await fh.read(buf, 0, buf.length, a[1] as number);
        return buf.subarray(0, bytesRead);
      }
      case "file.stat": {
        const st = await this.take(this.files, a[0], "file").stat({ bigint: true });
        return { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
      }
      case "file.close": {
        const fh = this.take(this.files, a[0], "file");
        this.files.delete(a[0] as number);
        await fh.close();
        return undefined;
      }
      case "dir.open": {
        const fh = await openDirNoFollow(a[0] as string, a[1] as string);
        return { h: this.keep(this.dirs, fh), dev: (await fh.stat()).dev };
      }
      case "dir.entries": {
        const list = await fsp.readdir(beneath(this.take(this.dirs, a[0], "dir")), { withFileTypes: true });
        return list.map((e) => ({
          name: e.name,
          kind: e.isFile() ? "file" : e.isDirectory() ? "dir" : e.isSymbolicLink() ? "symlink" : "other",
        }));
      }
      case "dir.lstat": {
        const st = await fsp
          .lstat(beneath(this.take(this.dirs, a[0], "dir"), a[1] as string))
          .catch((err: NodeJS.ErrnoException) => {
            if (err.code === "ENOENT") return undefined;
            throw err;
          });
        return st && hostStatOf(st);
      }
      case "dir.move": {
        // names were checked against the caller's rule on the controller; kind and device here
        const fh = this.take(this.dirs, a[0], "dir");
        const moves = a[1] as { name: string; into: string }[];
        return moves.map((mv) => moveIntoTrash(fh, mv.name, mv.into, a[2] as number, () => true));
      }
      case "dir.close": {
        const fh = this.take(this.dirs, a[0], "dir");
        this.dirs.delete(a[0] as number);
        await fh.close();
        return undefined;
      }
      case "upload.open": {
        const dest = a[0] as string;
        const tmp = tempNameFor(dest);
        const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        const up: Upload = {
          tmp,
          dest,
          fh,
          hash: createHash("sha256"),
          size: 0,
          maxBytes: (a[1] as number | undefined) ?? Number.MAX_SAFE_INTEGER,
        };
        return this.keep(this.uploads, up);
      }
      case "upload.write": {
        const up = this.take(this.uploads, a[0], "upload");
        const bytes = a[1] as Uint8Array;
        // runs synchronously up to the write, so chunks are hashed and placed in arrival order
        // even with several writes in flight
        const at = up.size;
        up.size += bytes.byteLength;
        if (up.size > up.maxBytes)
          throw new DataError(`source is larger than the limit of ${up.maxBytes} bytes`);
        up.hash.update(bytes);
        await up.fh.write(bytes, 0, bytes.byteLength, at);
        return undefined;
      }
      case "upload.finish": {
        const up = this.take(this.uploads, a[0], "upload");
        await up.fh.chmod(a[1] as number);
        await up.fh.sync();
        return { sha256: up.hash.copy().digest("hex"), size: up.size };
      }
      case "upload.place": {
        const up = this.take(this.uploads, a[0], "upload");
        this.uploads.delete(a[0] as number);
        await up.fh.close();
        await placeFile(up.tmp, up.dest, a[1] as Pick<HashCopyOptions, "replace" | "existsHint">);
        await fsyncDir(dirname(up.dest));
        return undefined;
      }
      case "upload.abort": {
        const up = this.uploads.get(a[0] as number);
        if (!up) return undefined;
        this.uploads.delete(a[0] as number);
        await up.fh.close().catch(() => undefined);
        await fsp.rm(up.tmp, { force: true });
        return undefined;
      }
      case "copy.start": {
        // copyHashed of a file open here; it stops before placing and waits for copy.decide
        const fh = this.take(this.files, a[0], "file");
        const h = this.next++;
        return new Promise((resolve, reject) => {
          let decide: (place: boolean) => void = () => undefined;
          const done = copyHashed(fh, a[1] as string, {
            ...(a[2] as HashCopyOptions),
            beforePlace: (result) =>
              new Promise<void>((go, stop) => {
                decide = (place) => (place ? go() : stop(new Error("discarded by the controller")));
                this.copies.set(h, { decide, done });
                resolve({ h, result });
              }),
          });
          done.catch((err: unknown) => {
            if (!this.copies.has(h)) reject(err as Error);
          });
        });
      }
      case "copy.decide": {
        const c = this.take(this.copies, a[0], "copy");
        this.copies.delete(a[0] as number);
        c.decide(Boolean(a[1]));
        if (a[1]) await c.done;
        else await c.done.catch(() => undefined);
        return undefined;
      }
      case "lock.acquire": {
        const r = await this.host.acquireLock(a[0] as string, a[1] as string, a[2] as object);
        if (!r.ok) return r;
        return { ok: true, h: this.keep(this.locks, r.lock), path: r.lock.path };
      }
      case "lock.release": {
        const lock = this.locks.get(a[0] as number);
        this.locks.delete(a[0] as number);
        await lock?.release();
        return undefined;
      }
      case "ports.free":
        return freeLoopbackPorts(a[0] as number);
      default: {
        const fn = (this.host as unknown as Record<string, unknown>)[m];
        if (typeof fn !== "function" || !PLAIN_METHODS.has(m))
          throw new Error(`host helper: unknown method ${JSON.stringify(m)}`);
        return (fn as (...x: unknown[]) => Promise<unknown>).apply(this.host, a);
      }
    }
  }

  /** The session ended: release every lock this helper holds, remove unfinished uploads. */
  async shutdown(): Promise<void> {
    for (const lock of this.locks.values()) await lock.release().catch(() => undefined);
    for (const up of this.uploads.values()) await fsp.rm(up.tmp, { force: true }).catch(() => undefined);
  }
}

/** Host methods whose arguments and results cross the wire as they are. */
export const PLAIN_METHODS: ReadonlySet<string> = new Set([
  "readFile",
  "readText",
  "readHead",
  "readTail",
  "writeFile",
  "writeFileAtomic",
  "appendLines",
  "createSparse",
  "truncate",
  "mkdir",
  "ensureDir",
  "ensureStateDir",
  "mkdtemp",
  "chmod",
  "chown",
  "lstat",
  "stat",
  "access",
  "readdir",
  "readlink",
  "realpath",
  "rename",
  "copyFile",
  "symlink",
  "rm",
  "rmdir",
  "fsync",
  "hashFile",
  "statfs",
  "readGuestFile",
  "measureTree",
  "removeTree",
  "makeTrashBatch",
  "sweepTrash",
  "probeWrite",
  "mountinfo",
  "loopBackingFile",
]);

/** Serves requests on stdin until it ends. */
export async function serveStdio(): Promise<void> {
  const helper = new Helper();
  const reader = new FrameReader();
  const write = (msg: unknown) => process.stdout.write(encodeFrame(msg));
  const handle = (req: WireRequest) => {
    helper.call(req.m, req.a).then(
      (r) => write({ id: req.id, r }),
      (err: unknown) => write({ id: req.id, e: wireErrorOf(err) }),
    );
  };
  process.stdin.on("data", (chunk: Buffer) => {
    let msgs: unknown[];
    try {
      msgs = reader.push(chunk);
    } catch (err) {
      process.stderr.write(`agentshare host helper: ${(err as Error).message}\n`);
      process.exit(2);
    }
    for (const m of msgs) handle(m as WireRequest);
  });
  await new Promise<void>((resolve) => process.stdin.once("end", resolve));
  await helper.shutdown();
}

const isMain = process.argv[1] !== undefined && /\/host-helper[^/]*\.mjs$/.test(process.argv[1]);
if (isMain)
  serveStdio().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`agentshare host helper: ${String(err)}\n`);
      process.exit(1);
    },
  );

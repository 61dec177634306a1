// A remote VM host behind the seam: tools run over the SSH connection (one exec channel each,
// sshRunner), file work goes to the host helper (src/host/helper.ts) that this end starts on the
// host over one more channel, and connections to a guest's forwarded port are channels through
// the host's sshd (forwardOut), so this machine needs no route to any guest network.
import type { Duplex } from "node:stream";
import type { Client, ClientChannel } from "ssh2";
import { sshRunner } from "../adapters/ssh.js";
import { buildExecLine } from "../core/shell-quote.js";
import { encodeFrame, FrameReader, type WireError, type WireReply } from "../core/host-wire.js";
import {
  AgentshareError,
  ConfigError,
  DataError,
  InternalError,
  NoPermissionError,
  NotFoundError,
  TempFailError,
  ToolError,
  UsageError,
} from "../errors.js";
import type {
  HashCopyOptions,
  HashCopyResult,
  Host,
  HostDir,
  HostDirent,
  HostReadFile,
  HostStat,
  LockAttempt,
  MoveOutcome,
} from "./host.js";

/** The wire protocol this end speaks (src/host/helper.ts HELPER_PROTOCOL). */
const PROTOCOL = 1;
/** Bytes per read or write request of a streamed file, and how many are in flight at once. */
const CHUNK = 1024 * 1024;
const WINDOW = 4;

/** What the helper said about itself when it started. */
export interface HelperInfo {
  protocol: number;
  node: string;
  pid: number;
  uid: number;
  tmpDir: string;
}

export interface RemoteHost extends Host {
  readonly info: HelperInfo;
  /** Ends the helper (it releases its locks) and leaves the SSH connection to its owner. */
  close(): Promise<void>;
}

const CLASSES: Record<string, new (m: string, o?: { hint?: string }) => AgentshareError> = {
  UsageError,
  DataError,
  NotFoundError,
  ToolError,
  InternalError,
  NoPermissionError,
  TempFailError,
};

/** The helper's error as this side's: the project's class by name, or an errno error with its code. */
function errorOf(e: WireError, host: string): Error {
  if (e.name === "ConfigError") return new ConfigError(e.message, [], { hint: e.hint });
  const Cls = CLASSES[e.name];
  if (Cls) return new Cls(e.message, { hint: e.hint });
  const err = new Error(`${e.message} (on host ${host})`) as Error & { code?: string };
  if (e.code) err.code = e.code;
  return err;
}

/** One helper process and the calls in flight to it. */
class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly reader = new FrameReader();
  private stderr = "";
  private lost: Error | undefined;

  constructor(
    private readonly ch: ClientChannel,
    readonly host: string,
  ) {
    ch.on("data", (chunk: Buffer) => {
      let replies: unknown[];
      try {
        replies = this.reader.push(chunk);
      } catch (err) {
        this.fail(
          new ToolError(`host ${host}: the host helper sent a broken reply (${(err as Error).message})`),
        );
        ch.close();
        return;
      }
      for (const r of replies as WireReply[]) {
        const p = this.pending.get(r.id);
        if (!p) continue;
        this.pending.delete(r.id);
        if ("e" in r) p.reject(errorOf(r.e, host));
        else p.resolve(r.r);
      }
    });
    ch.stderr.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString("utf8")).slice(-4096)));
    ch.on("close", () =>
      this.fail(
        new ToolError(
          `the connection to host ${host} was lost` + (this.stderr.trim() ? `: ${this.stderr.trim()}` : ""),
          {
            hint: `check that ${host} is up and reachable (\`agentshare host list\`), then run the command again: it picks up where the host's state is`,
          },
        ),
      ),
    );
  }

  private fail(err: Error): void {
    this.lost ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  call<T>(m: string, ...a: unknown[]): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ch.write(encodeFrame({ id, m, a }));
    });
  }

  end(): void {
    this.ch.end();
  }
}

class RemoteReadFile implements HostReadFile {
  constructor(
    readonly rpc: Rpc,
    readonly h: number,
    readonly size: number,
  ) {}

  async *chunks(): AsyncIterable<Uint8Array> {
    // WINDOW reads in flight; each yields in order
    const inFlight: Promise<Uint8Array>[] = [];
    let next = 0;
    const more = () => {
      while (inFlight.length < WINDOW && next < this.size) {
        inFlight.push(this.rpc.call<Uint8Array>("file.read", this.h, next, CHUNK));
        next += CHUNK;
      }
    };
    more();
    let got = 0;
    while (inFlight.length) {
      const bytes = await (inFlight.shift() as Promise<Uint8Array>);
      got += bytes.byteLength;
      if (bytes.byteLength) yield bytes;
      if (bytes.byteLength < CHUNK) break; // end of file (it may have shrunk)
      more();
    }
    // a file that grew after it was opened: read on to its end, as a local stream would
    for (;;) {
      if (got < this.size) break;
      const bytes = await this.rpc.call<Uint8Array>("file.read", this.h, got, CHUNK);
      if (!bytes.byteLength) break;
      got += bytes.byteLength;
      yield bytes;
    }
  }

  stat(): Promise<{ size: string; mtimeNs: string; ctimeNs: string }> {
    return this.rpc.call("file.stat", this.h);
  }

  close(): Promise<void> {
    return this.rpc.call("file.close", this.h);
  }
}

class RemoteDir implements HostDir {
  constructor(
    readonly rpc: Rpc,
    readonly h: number,
    readonly dev: number,
  ) {}
  entries(): Promise<HostDirent[]> {
    return this.rpc.call("dir.entries", this.h);
  }
  lstat(rel: string): Promise<HostStat | undefined> {
    return this.rpc.call("dir.lstat", this.h, rel);
  }
  async moveIntoTrash(
    moves: readonly { name: string; into: string }[],
    dev: number,
    isVictimName: (name: string) => boolean,
  ): Promise<MoveOutcome[]> {
    // the name rule is checked here, kind and device beneath the fd on the host
    const ok = moves.filter((m) => isVictimName(m.name));
    const done = ok.length ? await this.rpc.call<MoveOutcome[]>("dir.move", this.h, ok, dev) : [];
    let i = 0;
    return moves.map((m) =>
      isVictimName(m.name)
        ? (done[i++] as MoveOutcome)
        : { moved: false, why: "name does not match the run pattern" },
    );
  }
  close(): Promise<void> {
    return this.rpc.call("dir.close", this.h);
  }
}

/** The methods that cross as they are (src/host/helper.ts PLAIN_METHODS). */
const PLAIN = [
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
] as const;

/**
 * Starts the helper at `helperPath` on the host behind `conn` (with `node`, the host's Node ≥ 18)
 * and returns the host. ToolError when it cannot start or speaks another protocol.
 */
export async function openRemoteHost(o: {
  name: string;
  conn: Client;
  helperPath: string;
  node?: string;
}): Promise<RemoteHost> {
  const ch = await new Promise<ClientChannel>((resolve, reject) =>
    o.conn.exec(buildExecLine([o.node ?? "node", o.helperPath]), (err, c) =>
      err
        ? reject(new ToolError(`host ${o.name}: could not start the host helper: ${err.message}`))
        : resolve(c),
    ),
  );
  const rpc = new Rpc(ch, o.name);
  const info = await rpc.call<HelperInfo>("hello").catch((err: Error) => {
    throw new ToolError(`host ${o.name}: the host helper did not start (${err.message})`, {
      hint: `the host needs Node.js 18 or later as \`node\` on its PATH: run \`agentshare host setup ${o.name}\``,
    });
  });
  if (info.protocol !== PROTOCOL)
    throw new ToolError(
      `host ${o.name}: its host helper speaks protocol ${info.protocol}, this agentshare ${PROTOCOL}`,
    );

  const plain = Object.fromEntries(
    PLAIN.map((m) => [m, (...a: unknown[]) => rpc.call(m, ...a)]),
  ) as unknown as Pick<Host, (typeof PLAIN)[number]>;

  const run = sshRunner(o.conn, `host ${o.name}`);

  async function upload(src: HostReadFile, dest: string, opts: HashCopyOptions): Promise<HashCopyResult> {
    const h = await rpc.call<number>("upload.open", dest, opts.maxBytes);
    try {
      const writes: Promise<unknown>[] = [];
      let sent = 0;
      for await (const chunk of src.chunks()) {
        for (let at = 0; at < chunk.byteLength; at += CHUNK) {
          writes.push(rpc.call("upload.write", h, chunk.subarray(at, at + CHUNK)));
          if (writes.length >= WINDOW) await writes.shift();
        }
        sent += chunk.byteLength;
      }
      await Promise.all(writes);
      if (sent !== src.size)
        throw new TempFailError(
          `${opts.label ?? "the source"} changed while it was being copied: ${src.size} bytes when opened, ${sent} read; nothing was published`,
          { hint: "something is still writing it: wait until it is finished and try again" },
        );
      const result = await rpc.call<HashCopyResult>("upload.finish", h, opts.mode);
      await opts.beforePlace?.(result);
      await rpc.call("upload.place", h, { replace: opts.replace, existsHint: opts.existsHint });
      return result;
    } catch (err) {
      await rpc.call("upload.abort", h).catch(() => undefined);
      throw err;
    }
  }

  const host: RemoteHost = {
    ...plain,
    name: o.name,
    info,
    run,
    tmpDir: info.tmpDir,
    async openFileNoFollow(path, label) {
      const r = await rpc.call<{ h: number; size: number }>("file.openNoFollow", path, label);
      return new RemoteReadFile(rpc, r.h, r.size);
    },
    async openFileBeneath(root, parts, label) {
      const r = await rpc.call<{ h: number; size: number }>("file.openBeneath", root, parts, label);
      return new RemoteReadFile(rpc, r.h, r.size);
    },
    async openDirNoFollow(path, label) {
      const r = await rpc.call<{ h: number; dev: number }>("dir.open", path, label);
      return new RemoteDir(rpc, r.h, r.dev);
    },
    async copyHashed(src, dest, opts) {
      if (!(src instanceof RemoteReadFile && src.rpc === rpc)) return upload(src, dest, opts);
      // both ends on this host: the helper copies (with its checks that the source did not
      // change), stops before placing, and places only when beforePlace here accepts
      const { beforePlace, ...wire } = opts;
      const { h, result } = await rpc.call<{ h: number; result: HashCopyResult }>(
        "copy.start",
        src.h,
        dest,
        wire,
      );
      try {
        await beforePlace?.(result);
      } catch (err) {
        await rpc.call("copy.decide", h, false).catch(() => undefined);
        throw err;
      }
      await rpc.call("copy.decide", h, true);
      return result;
    },
    async acquireLock(locksDir, key, opts) {
      const r = await rpc.call<{ ok: true; h: number; path: string } | Extract<LockAttempt, { ok: false }>>(
        "lock.acquire",
        locksDir,
        key,
        opts,
      );
      if (!r.ok) return r;
      return { ok: true, lock: { path: r.path, release: () => rpc.call("lock.release", r.h) } };
    },
    freeLoopbackPorts: (n) => rpc.call("ports.free", n),
    connectTcp: (address, port) =>
      new Promise<Duplex>((resolve, reject) =>
        o.conn.forwardOut("127.0.0.1", 0, address, port, (err, ch) =>
          err
            ? reject(
                new ToolError(`host ${o.name}: cannot connect to ${address}:${port} there: ${err.message}`, {
                  hint: "is the agent running? (`agentshare status NAME`)",
                }),
              )
            : resolve(ch),
        ),
      ),
    async close() {
      rpc.end();
    },
  };
  return host;
}

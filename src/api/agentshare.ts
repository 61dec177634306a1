// The library's centre: createAgentshare() returns one object whose methods are the verbs. The
// CLI is one client of it (src/cli/*: flags → params → one call → text or --json of the result),
// a program is another. Each call builds the ops' context (src/ops/context.ts) with its own
// progress sink and abort signal; ops, adapters and heavy packages load on a verb's first call
// (ESLint keeps static imports out, as for the CLI), so a CLI start stays cheap.
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Runner } from "../adapters/runner.js";
import { lazyLocalHost } from "../host/lazy.js";
import type { RemoteHost } from "../host/remote.js";
import { AUTO_HOST, LOCAL_HOST, type HostEntry } from "../core/fleet.js";
import type { Fleet } from "../ops/fleet.js";
import type { HostPool } from "./host-pool.js";
import { AGENT_NAME_HINT, checkAgentName } from "../core/names.js";
import {
  checkHostDir,
  DEFAULT_CRON_FILE,
  DEFAULT_IMAGE_CACHE,
  DEFAULT_ROOT,
  DEFAULT_STATE_DIR,
  DEFAULT_UNIT_DIR,
  agentPaths,
  hostPaths,
  SYSTEMD_MARKER,
  type HostPaths,
} from "../core/paths.js";
import { DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SIZE } from "../core/image-recipe.js";
import { DEFAULT_KUBEVIRT_OPTIONS } from "../core/kubevirt-options.js";
import { DataError, NotFoundError, TempFailError, UsageError } from "../errors.js";
import type { OpContext, OpOptions, Reporter } from "../ops/context.js";
import type { CollectResult } from "../ops/collect.js";
import type { CheckResult } from "../ops/doctor.js";
import type { DestroyResult } from "../ops/destroy.js";
import type { InboxUsage } from "../ops/du.js";
import type { BuildImageResult } from "../ops/image-build.js";
import type { ImageListEntry } from "../ops/image.js";
import type { InitReport } from "../ops/init.js";
import type { RestartAgentResult, StartAgentResult, StopAgentResult } from "../ops/lifecycle.js";
import type { PromoteResult } from "../ops/promote.js";
import type { InboxResult } from "../ops/prune.js";
import type { ProvisionResult } from "../ops/provision.js";
import type { RenderResult } from "../ops/render.js";
import type { ResizeResult } from "../ops/resize.js";
import type { AgentStatus } from "../ops/status.js";
import type { RunFile, RunInfo, StagingFile } from "../ops/runs.js";
import { attachEvents } from "./attach-events.js";
import { ephemeralAgent, type EphemeralAgent } from "./ephemeral.js";
import type {
  AddHostParams,
  AgentshareOptions,
  AttachEvent,
  AttachParams,
  BuildImageParams,
  CallOptions,
  CollectParams,
  CronParams,
  DestroyParams,
  EphemeralParams,
  ExecParams,
  ExecResult,
  ProgressEvent,
  PromoteParams,
  ProvisionParams,
  PruneParams,
  RenderKubevirtParams,
  StartParams,
  StopParams,
} from "./types.js";

/** promote's result: published here, then on each remote host (`ok` false when a host failed). */
export interface FleetPromoteResult extends PromoteResult {
  ok: boolean;
  hosts: { host: string; ok: boolean; error?: string }[];
}

export interface FleetListing {
  /** false when a host could not be asked (its entry in `hosts` says why). */
  ok: boolean;
  hosts: { name: string; reachable: boolean; agents: number; error?: string }[];
  /** Every reachable host's agents, each with its `host`. */
  agents: AgentStatus[];
}

export type { HostInfo, SyncResult } from "../ops/fleet-hosts.js";
import type { HostInfo, SyncResult } from "../ops/fleet-hosts.js";

export interface DuResult {
  /** false when an inbox is full or its limit is not enforced. */
  ok: boolean;
  inboxes: InboxUsage[];
}

export interface PruneResult {
  /** false when any inbox was not pruned completely (each says why). */
  ok: boolean;
  dryRun: boolean;
  inboxes: InboxResult[];
}

export interface DoctorResult {
  ok: boolean;
  checks: CheckResult[];
}

export interface CronInstallResult {
  ok: true;
  files: string[];
  command: readonly string[];
  log: string;
}

/** The verbs. Each resolves with the object the CLI prints with `--json`, or throws an AgentshareError. */
export interface Agentshare {
  readonly root: string;
  readonly stateDir: string;
  readonly connect: string;
  readonly paths: HostPaths;
  /** The host tree and state dir; with `mount` (default), global-ro as a read-only bind mount. Idempotent. */
  init(o?: CallOptions & { mount?: boolean }): Promise<InitReport>;
  /** Provisions on `host`, else where the agent already is, else (hosts configured) where placement puts it. */
  provision(name: string, o?: ProvisionParams): Promise<ProvisionResult & { host: string }>;
  destroy(name: string, o?: DestroyParams): Promise<DestroyResult & { host: string }>;
  start(name: string, o?: StartParams): Promise<StartAgentResult>;
  stop(name: string, o?: StopParams): Promise<StopAgentResult>;
  restart(name: string, o?: StartParams & StopParams): Promise<RestartAgentResult>;
  /** The agents of one host (`host`, default this machine). */
  list(o?: CallOptions): Promise<AgentStatus[]>;
  /** Every host's agents, the hosts queried in parallel; an unreachable host is listed with why. */
  fleet(o?: CallOptions): Promise<FleetListing>;
  /** The fleet's hosts: reachability, libvirt and QEMU versions, free memory, agents. */
  hosts(o?: CallOptions): Promise<HostInfo[]>;
  /** Records a remote host after logging in to it with its key pinned (`agentshare host add`). */
  addHost(name: string, target: string, o?: AddHostParams): Promise<{ ok: true; host: HostInfo }>;
  /** Forgets a host `host add` recorded; refused while agents are placed on it (unless `force`). */
  removeHost(name: string, o?: CallOptions & { force?: boolean }): Promise<{ ok: true; name: string }>;
  /** Runs the project's host setup script on a host (packages, libvirtd, Node for the helper). */
  setupHost(
    name: string,
    o?: CallOptions,
  ): Promise<{ ok: boolean; name: string; exitCode: number; output: string }>;
  /** Makes every host's global match this machine's (by checksum); files only there are reported. */
  sync(o?: CallOptions): Promise<SyncResult>;
  /** Ends the SSH connections to remote hosts this object opened. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  status(name: string, o?: CallOptions): Promise<AgentStatus>;
  /** The agent's runs, newest first, with what each metrics.json says. */
  runs(name: string, o?: CallOptions): Promise<RunInfo[]>;
  /** A run's regular files (logs, metrics.json, outputs/…), never through a symlink. */
  runFiles(name: string, run: string, o?: CallOptions): Promise<RunFile[]>;
  /** Opens one file of a run (no-follow, never outside the inbox); the caller closes the handle. */
  openRunFile(
    name: string,
    run: string,
    path: string,
    o?: CallOptions,
  ): Promise<{ handle: import("node:fs/promises").FileHandle; size: number }>;
  /** The staging area's files with their sha256 (what promote would publish). */
  staging(o?: CallOptions): Promise<StagingFile[]>;
  /** The audit log's last records, oldest first. */
  audit(o?: CallOptions & { limit?: number }): Promise<Record<string, unknown>[]>;
  /** The agent's live log as events; resumable with `after` (an event id) exactly as `agentshare attach`. */
  attach(name: string, o?: AttachParams): AsyncIterable<AttachEvent>;
  /** Runs `argv` in the agent (as a new run unless `run: false`); resolves with its exit code. */
  exec(name: string, argv: readonly string[], o?: ExecParams): Promise<ExecResult>;
  /** staging/FILE → global/<to>/FILE, mode 0444, with its sha256 sidecar; atomic. */
  promote(file: string, o?: PromoteParams): Promise<FleetPromoteResult>;
  /** One file from the agent's inbox into staging (never through a symlink). */
  collect(name: string, path: string, o?: CollectParams): Promise<CollectResult & { ok: true }>;
  prune(o: PruneParams): Promise<PruneResult>;
  /** Inbox use against its limit; all inboxes when `names` is empty. `top`: also the N largest runs. */
  du(names?: readonly string[], o?: CallOptions & { top?: number }): Promise<DuResult>;
  doctor(o?: CallOptions): Promise<DoctorResult>;
  /** Grows an agent's inbox file system to `quota` (e.g. "20G"); never shrinks. */
  resize(name: string, quota: string, o?: CallOptions): Promise<ResizeResult>;
  buildImage(o?: BuildImageParams): Promise<BuildImageResult>;
  listImages(o?: CallOptions): Promise<ImageListEntry[]>;
  removeImage(name: string, o?: CallOptions): Promise<{ name: string; removed: string[] }>;
  cronInstall(o?: CronParams): Promise<CronInstallResult>;
  /** The agent as KubeVirt objects, from the plan provision uses (docs/kubevirt.md); touches no host. */
  renderKubevirt(name: string, o?: RenderKubevirtParams): Promise<RenderResult>;
  cronRemove(o?: CronParams): Promise<{ ok: true; removed: string[] }>;
  /**
   * Provisions a new agent (started, ready) that is destroyed when its scope ends:
   * `await using agent = await as.ephemeral()`.
   */
  ephemeral(o?: EphemeralParams): Promise<EphemeralAgent>;
}

/** The settings createAgentshare resolved: its options, else the env vars, else the defaults. */
export function resolveOptions(o: AgentshareOptions = {}, env = process.env): OpOptions {
  const opts: OpOptions = {
    root: o.root ?? env.AGENTSHARE_ROOT ?? DEFAULT_ROOT,
    stateDir: o.stateDir ?? env.AGENTSHARE_STATE_DIR ?? DEFAULT_STATE_DIR,
    connect: o.connect ?? env.AGENTSHARE_CONNECT ?? "qemu:///system",
    config: o.configFile ?? env.AGENTSHARE_CONFIG,
  };
  for (const [what, value] of [
    ["root", opts.root],
    ["stateDir", opts.stateDir],
  ] as const) {
    const rule = checkHostDir(value);
    if (rule)
      throw new UsageError(`${what} ${JSON.stringify(value)} ${rule}`, {
        hint: `give ${what} as an absolute path (the CLI's --${what === "root" ? "root" : "state-dir"})`,
      });
  }
  return opts;
}

/** A Reporter that hands each line to `emit` as a ProgressEvent. */
export function reporterOf(emit: ((e: ProgressEvent) => void) | undefined): Reporter {
  const send = (e: ProgressEvent) => emit?.(e);
  return {
    warn: (message) => send({ type: "warning", message }),
    note: (message) => send({ type: "note", message }),
    progress: (message) => send({ type: "progress", message }),
    progressDone: () => send({ type: "done" }),
  };
}

/** The local runner (execa), loaded on its first call. */
const lazyLocalRunner: Runner = async (file, args, opts) => {
  const { localRunner } = await import("../adapters/runner.js");
  return localRunner(file, args, opts);
};

/** A runner that stops at the signal: no new tool starts after it, a running one is killed. */
function abortableRunner(inner: Runner, signal: AbortSignal | undefined): Runner {
  if (!signal) return inner;
  return (file, args, opts) => {
    signal.throwIfAborted();
    return inner(file, args, { ...opts, signal });
  };
}

/** `trace` gets a line per tool run (the CLI's --debug): the runner adapter's tracer, loaded on first use. */
function tracing(inner: Runner, trace: ((line: string) => void) | undefined): Runner {
  if (!trace) return inner;
  return async (file, args, opts) => {
    const { tracingRunner } = await import("../adapters/runner.js");
    return tracingRunner(inner, trace)(file, args, opts);
  };
}

const assertName = (name: string) => {
  const bad = checkAgentName(name);
  if (bad)
    throw new DataError(`invalid agent name ${JSON.stringify(name)}: ${bad}`, { hint: AGENT_NAME_HINT });
};

/** The CLI entry beside this module (dist/cli/main.js; main.ts when run from the sources). */
const cliScript = () => {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(dirname(here)), "cli", `main${extname(here)}`);
};

/** Creates the API object for one host tree and state dir. Throws a UsageError for a bad root/stateDir. */
export function createAgentshare(options: AgentshareOptions = {}): Agentshare {
  const opts = resolveOptions(options);
  const paths = hostPaths(opts.root, opts.stateDir);
  const baseRun = tracing(options.runner ?? lazyLocalRunner, options.trace);
  const clock = options.clock ?? (() => new Date());

  /** The ops' context for one call. */
  const ctxOf = (o: CallOptions = {}): OpContext => {
    const run = abortableRunner(baseRun, o.signal);
    return {
      opts,
      paths,
      // the VM host's files and tools; the same runner as `run` (src/host/host.ts)
      host: lazyLocalHost(run),
      run,
      out: reporterOf(o.onProgress ?? options.onProgress),
      clock,
      signal: o.signal,
    };
  };

  // the fleet: the controlling machine's own records (src/ops/fleet.ts) and the connections to
  // remote hosts (src/api/host-pool.ts), opened on first use and closed by close()
  const controller = lazyLocalHost(baseRun);
  let pool: HostPool | undefined;
  const poolOf = async () => (pool ??= new (await import("./host-pool.js")).HostPool());
  const fleetNow = async () =>
    (await import("../ops/fleet.js")).loadFleet(controller, {
      configFile: opts.config,
      root: opts.root,
      stateDir: opts.stateDir,
    });
  const placedOn = async (agent: string) =>
    (await import("../ops/fleet.js")).placementOf(controller, opts.stateDir, agent);
  const localEntry = (): HostEntry => ({
    name: LOCAL_HOST,
    source: "built-in",
    ssh: null,
    identity: "",
    knownHosts: "",
    root: opts.root,
    stateDir: opts.stateDir,
    connect: opts.connect,
    labels: {},
    maxAgents: null,
    memory: null,
    node: "node",
  });

  /** The host a call goes to: `host`, else the agent's recorded host, else this machine. */
  const targetOf = async (o: CallOptions, agent?: string): Promise<HostEntry> => {
    const placed = agent === undefined ? undefined : await placedOn(agent);
    const want = o.host ?? options.host ?? placed;
    if (want === undefined || (want === LOCAL_HOST && placed === undefined)) return localEntry();
    if (agent !== undefined && placed !== (want === LOCAL_HOST ? undefined : want))
      throw new DataError(`agent ${agent} is on host ${placed ?? LOCAL_HOST}, not ${want}`, {
        hint: `leave out --host (agentshare knows where it is), or give --host ${placed ?? LOCAL_HOST}`,
      });
    const { fleetHost } = await import("../ops/fleet.js");
    const e = fleetHost(await fleetNow(), want);
    return e.ssh ? e : localEntry();
  };

  /** The ops' context on a remote host: its paths, its libvirt, its files and tools over SSH. */
  const remoteCtx = async (entry: HostEntry, o: CallOptions = {}): Promise<OpContext> => {
    const hc = await (await poolOf()).get(entry);
    const run = abortableRunner(tracing(hc.host.run, options.trace), o.signal);
    return {
      opts: { root: entry.root, stateDir: entry.stateDir, connect: entry.connect, config: opts.config },
      paths: hostPaths(entry.root, entry.stateDir),
      host: { ...hc.host, run },
      run,
      out: reporterOf(o.onProgress ?? options.onProgress),
      clock,
      signal: o.signal,
    };
  };
  const ctxOn = (entry: HostEntry, o: CallOptions = {}): Promise<OpContext> =>
    entry.ssh ? remoteCtx(entry, o) : Promise.resolve(ctxOf(o));

  /** Where a new agent goes (`--host auto`): src/core/fleet.ts placeAgent over every host's load. */
  const placeNew = async (fleet: Fleet, name: string, o: ProvisionParams): Promise<string> => {
    const { loadConfig } = await import("../ops/config-load.js");
    const { config } = await loadConfig({
      configFile: opts.config,
      profile: o.profile,
      agentName: name,
      flags: { ...(o.settings ?? {}) },
    });
    const { hostLoad } = await import("../ops/fleet.js");
    const { placeAgent } = await import("../core/fleet.js");
    const { runChecked } = await import("../adapters/runner.js");
    const local = {
      ...localEntry(),
      labels: fleet.local.labels,
      maxAgents: fleet.local.maxAgents,
      memory: fleet.local.memory,
    };
    const loads = await Promise.all(
      [local, ...fleet.remote.values()].map(async (e) => {
        try {
          const ctx = await ctxOn(e, { signal: o.signal });
          const running = await runChecked(ctx.run, "virsh", ["-c", ctx.opts.connect, "list", "--name"]);
          const names = new Set(
            running
              .split("\n")
              .map((l) => l.trim())
              .filter(Boolean),
          );
          return await hostLoad(ctx.host, e, ctx.paths.agentsDir, names);
        } catch (err) {
          return {
            name: e.name,
            unavailable: `unreachable: ${err instanceof Error ? err.message : String(err)}`,
            labels: e.labels,
            agents: 0,
            maxAgents: e.maxAgents,
            availableMiB: 0,
            reservedMiB: 0,
            definedMiB: 0,
            memoryLimitMiB: e.memory,
          };
        }
      }),
    );
    const p = placeAgent(loads, config.agent.memory, o.selector ?? {});
    if (!p.host)
      throw new TempFailError(
        `no host can take agent ${name} (${config.agent.memory} MiB):\n  ${p.considered.map((n) => `${n.host}: ${n.why}`).join("\n  ")}`,
        {
          hint: "free memory or raise maxAgents on a host, add one (`agentshare host add`), or relax --selector",
        },
      );
    (o.onProgress ?? options.onProgress)?.({ type: "note", message: `placing ${name} on host ${p.host}` });
    return p.host;
  };

  /** Runs one call on its host: a signal aborted before it starts rejects at once. */
  const call = async <T>(
    o: CallOptions | undefined,
    fn: (ctx: OpContext, on: HostEntry) => Promise<T>,
    agent?: string,
  ): Promise<T> => {
    o?.signal?.throwIfAborted();
    try {
      const on = await targetOf(o ?? {}, agent);
      return await fn(await ctxOn(on, o), on);
    } catch (err) {
      // an abort surfaces as the signal's reason, not as whatever the interrupted tool said
      if (o?.signal?.aborted) throw o.signal.reason;
      throw err;
    }
  };

  const api: Agentshare = {
    root: opts.root,
    stateDir: opts.stateDir,
    connect: opts.connect,
    paths,

    init: (o = {}) =>
      call(o, async (ctx) => {
        const { initTree } = await import("../ops/init.js");
        const { bindReadOnly } = await import("../adapters/mount.js");
        const { mountAllInboxes } = await import("../ops/inbox.js");
        const uid = "info" in ctx.host ? (ctx.host as RemoteHost).info.uid : process.getuid?.();
        return initTree({
          paths: ctx.paths,
          host: ctx.host,
          mount: o.mount !== false,
          isRoot: uid === 0,
          bindReadOnly: (src, dst) => bindReadOnly(ctx.host, src, dst),
          mountInboxes: () => mountAllInboxes(ctx.host, ctx.paths),
        });
      }),

    provision: async (name, o = {}) => {
      o.signal?.throwIfAborted();
      assertName(name);
      const fl = await import("../ops/fleet.js");
      const placed = await placedOn(name);
      const asked = o.host ?? options.host;
      let want = asked ?? placed;
      if (placed !== undefined && asked !== undefined && asked !== AUTO_HOST && asked !== placed)
        throw new DataError(`agent ${name} is on host ${placed}, not ${asked}`, {
          hint: `an agent's name is unique across the fleet: destroy it there first, or leave out --host`,
        });
      let fleet: Fleet | undefined;
      if (want === undefined || want === AUTO_HOST) {
        fleet = await fleetNow();
        want = fleet.remote.size === 0 ? LOCAL_HOST : await placeNew(fleet, name, o);
      }
      const on = want === LOCAL_HOST ? localEntry() : fl.fleetHost(fleet ?? (await fleetNow()), want);
      const fresh = on.ssh !== null && placed === undefined;
      if (fresh) {
        // the name must be free here too: an agent of this machine has no placement record
        const { readStoredSpec } = await import("../ops/provision-files.js");
        if (await readStoredSpec(controller, agentPaths(paths, name).spec))
          throw new DataError(`agent ${name} already exists on host ${LOCAL_HOST}`, {
            hint: "an agent's name is unique across the fleet: pick another name",
          });
        await fl.recordPlacement(controller, opts.stateDir, name, on.name, clock());
      }
      let ctx: OpContext;
      try {
        ctx = await ctxOn(on, o);
      } catch (err) {
        // nothing was made on a host that could not be reached: no record of it either
        if (fresh) await fl.forgetPlacement(controller, opts.stateDir, name);
        throw err;
      }
      try {
        const { provision } = await import("../ops/provision.js");
        const r = await provision(ctx, {
          name,
          profile: o.profile,
          flags: { ...(o.settings ?? {}) },
          dryRun: Boolean(o.dryRun),
          start: o.start !== false,
          wait: o.wait !== false,
          timeoutMs: o.timeoutMs ?? 600_000,
          recreate: Boolean(o.recreate),
        });
        if (fresh && o.dryRun) await fl.forgetPlacement(controller, opts.stateDir, name);
        return { ...r, host: on.name };
      } catch (err) {
        if (o.signal?.aborted) throw o.signal.reason;
        throw err;
      }
    },

    destroy: (name, o = {}) =>
      call(
        o,
        async (ctx, on) => {
          const { destroyAgent } = await import("../ops/destroy.js");
          const r = await destroyAgent(ctx, {
            name,
            purgeInbox: Boolean(o.purgeInbox),
            shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000,
          });
          if (on.ssh)
            await (await import("../ops/fleet.js")).forgetPlacement(controller, opts.stateDir, name);
          return { ...r, host: on.name };
        },
        name,
      ),

    start: (name, o = {}) =>
      call(
        o,
        async (ctx) => {
          const { startAgent } = await import("../ops/lifecycle.js");
          return startAgent(ctx, { name, wait: o.wait !== false, timeoutMs: o.timeoutMs ?? 600_000 });
        },
        name,
      ),

    stop: (name, o = {}) =>
      call(
        o,
        async (ctx) => {
          const { stopAgent } = await import("../ops/lifecycle.js");
          return stopAgent(ctx, { name, shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000 });
        },
        name,
      ),

    restart: (name, o = {}) =>
      call(
        o,
        async (ctx) => {
          const { restartAgent } = await import("../ops/lifecycle.js");
          return restartAgent(ctx, {
            name,
            wait: o.wait !== false,
            timeoutMs: o.timeoutMs ?? 600_000,
            shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000,
          });
        },
        name,
      ),

    list: (o) =>
      call(o, async (ctx, on) => {
        const { listAgents } = await import("../ops/status.js");
        return (await listAgents(ctx)).map((a) => ({ ...a, host: on.name }));
      }),

    fleet: async (o = {}) => {
      o.signal?.throwIfAborted();
      const fleet = await fleetNow();
      const { listAgents } = await import("../ops/status.js");
      if (!fleet.remote.size) {
        // this machine alone: its errors are the call's (libvirt down is a ToolError, as for list)
        const agents = await listAgents(ctxOf(o));
        return {
          ok: true,
          hosts: [{ name: LOCAL_HOST, reachable: true, agents: agents.length }],
          agents: agents.map((a) => ({ ...a, host: LOCAL_HOST })),
        };
      }
      const entries = [localEntry(), ...fleet.remote.values()];
      const each = await Promise.all(
        entries.map(async (e) => {
          try {
            const agents = await listAgents(await ctxOn(e, o));
            return { host: { name: e.name, reachable: true, agents: agents.length }, agents, e };
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            return { host: { name: e.name, reachable: false, agents: 0, error }, agents: [], e };
          }
        }),
      );
      return {
        ok: each.every((x) => x.host.reachable),
        hosts: each.map((x) => x.host),
        agents: each.flatMap((x) => x.agents.map((a) => ({ ...a, host: x.e.name }))),
      };
    },

    status: (name, o) =>
      call(
        o,
        async (ctx, on) => {
          const { agentStatus } = await import("../ops/status.js");
          return { ...(await agentStatus(ctx, name)), host: on.name };
        },
        name,
      ),

    runs: (name, o) => call(o, async (ctx) => (await import("../ops/runs.js")).listRunInfos(ctx, name), name),
    runFiles: (name, run, o) =>
      call(o, async (ctx) => (await import("../ops/runs.js")).listRunFiles(ctx, name, run), name),
    openRunFile: (name, run, path, o) =>
      call(o, async (ctx) => (await import("../ops/runs.js")).openRunFile(ctx, name, run, path), name),
    staging: (o) => call(o, async (ctx) => (await import("../ops/runs.js")).listStaging(ctx)),
    audit: (o = {}) => call(o, async (ctx) => (await import("../ops/runs.js")).readAuditTail(ctx, o.limit)),

    attach: (name, o = {}) =>
      attachEvents(name, o, async () => {
        assertName(name);
        if (o.endpoint) return o.endpoint;
        const { resolveAgentEndpoint } = await import("../ops/endpoint.js");
        const on = await targetOf(o, name);
        const ep = await resolveAgentEndpoint(await ctxOn(on, { signal: o.signal }), name);
        if (!on.ssh) return ep;
        // the guest's port as the remote host sees it, through that host's sshd
        const u = new URL(ep.url);
        const port = await (await poolOf()).forward(on, u.hostname, Number(u.port || 80));
        return { ...ep, url: `http://127.0.0.1:${port}` };
      }),

    exec: (name, argv, o = {}) =>
      call(
        o,
        async (ctx, on) => {
          const { execInAgent } = await import("../ops/exec.js");
          const { Readable, Writable } = await import("node:stream");
          const sink = (fn: ((c: Uint8Array) => void) | undefined, given?: NodeJS.WritableStream) =>
            (given as import("node:stream").Writable | undefined) ??
            new Writable({
              write(chunk: Buffer, _enc, done) {
                fn?.(chunk);
                done();
              },
            });
          const stdin =
            o.stdin === undefined
              ? undefined
              : typeof o.stdin === "string" || o.stdin instanceof Uint8Array
                ? Readable.from([Buffer.from(o.stdin)])
                : (o.stdin as import("node:stream").Readable);
          const r = await execInAgent(
            ctx,
            {
              name,
              argv,
              user: o.user ?? "agent",
              run: o.run !== false,
              host: o.address,
              port: o.port,
              // a remote host's guest: the SSH connection goes through that host's sshd
              dial: on.ssh ? (h: string, p: number) => ctx.host.connectTcp(h, p) : undefined,
              timeoutMs: o.timeoutMs,
              abort: o.signal,
              forwardSignals: o.forwardSignals,
            },
            { stdout: sink(o.onStdout, o.stdout), stderr: sink(o.onStderr, o.stderr), stdin },
          );
          if (r.aborted) throw o.signal?.reason ?? new DOMException("exec aborted", "AbortError");
          const out: ExecResult = { name, exitCode: r.exitCode, host: r.host };
          if (r.signal !== undefined) out.signal = r.signal;
          const run = (r as { run?: string }).run;
          if (run !== undefined) out.run = run;
          if (on.ssh) out.vmHost = on.name;
          return out;
        },
        name,
      ),

    promote: async (file, o = {}) => {
      // this machine's global is the fleet's source: published here, then to every remote host
      const r = await call({ ...o, host: LOCAL_HOST }, async (ctx) => {
        const { promote } = await import("../ops/promote.js");
        return promote(ctx, { file, to: o.to ?? "tools", force: Boolean(o.force) });
      });
      const fleet = await fleetNow();
      if (!fleet.remote.size) return { ok: true, ...r, hosts: [] };
      const { publishToHost } = await import("../ops/fleet-hosts.js");
      const rel = `${o.to ?? "tools"}/${r.name}`;
      const hosts = await Promise.all(
        [...fleet.remote.values()].map(async (e) => {
          try {
            const ctx = await remoteCtx(e, o);
            await publishToHost(controller, paths.global, ctx.host, ctx.paths.global, rel, r.sha256);
            return { host: e.name, ok: true };
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            return { host: e.name, ok: false, error };
          }
        }),
      );
      return { ok: hosts.every((h) => h.ok), ...r, hosts };
    },

    collect: (name, path, o = {}) =>
      call(o, async (ctx) => {
        const { collect } = await import("../ops/collect.js");
        const r = await collect(ctx, {
          agent: name,
          path,
          as: o.as,
          force: Boolean(o.force),
          maxBytes: o.maxBytes ?? 1024 ** 3,
        });
        return { ok: true as const, ...r };
      }),

    prune: (o) =>
      call(o, async (ctx) => {
        const names = o.agents ?? [];
        if (o.all && names.length) throw new UsageError("give agent names or --all, not both");
        if (!o.all && !names.length)
          throw new UsageError("name the agents to prune, or pass --all for every inbox", {
            hint: "agentshare prune NAME… | agentshare prune --all",
          });
        const { assertAgentName } = await import("../ops/agent-name.js");
        for (const n of names) assertAgentName(n);
        const { listInboxAgents } = await import("../ops/prune-scan.js");
        const agents = o.all
          ? await listInboxAgents(ctx.host, ctx.paths.root, (n) => checkAgentName(n) === undefined)
          : names;
        const { prune } = await import("../ops/prune.js");
        const dryRun = Boolean(o.dryRun);
        const inboxes = await prune(ctx, {
          agents,
          dryRun,
          lockWaitMs: o.lockWaitMs ?? 5000,
          keepLast: o.keepLast,
          maxAge: o.maxAge,
          maxSize: o.maxSize,
        });
        return { ok: inboxes.every((r) => r.status === "ok"), dryRun, inboxes };
      }),

    du: (names = [], o = {}) =>
      call(o, async (ctx) => {
        const { du, needsAttention } = await import("../ops/du.js");
        const inboxes = await du(ctx, names, o.top ?? 0);
        return { ok: !inboxes.some(needsAttention), inboxes };
      }),

    doctor: (o) =>
      call(o, async (ctx) => {
        const { runDoctor } = await import("../ops/doctor.js");
        return runDoctor(ctx);
      }),

    resize: (name, quota, o) =>
      call(o, async (ctx) => {
        const { resizeInbox } = await import("../ops/resize.js");
        return resizeInbox(ctx, name, quota);
      }),

    buildImage: (o = {}) =>
      call(o, async (ctx) => {
        const { buildImage } = await import("../ops/image-build.js");
        return buildImage(ctx, {
          name: o.name ?? DEFAULT_IMAGE_NAME,
          rebuild: Boolean(o.rebuild),
          mirror: o.mirror,
          size: o.size ?? DEFAULT_IMAGE_SIZE,
          cacheDir:
            o.cacheDir === undefined
              ? (process.env.AGENTSHARE_IMAGE_CACHE ?? DEFAULT_IMAGE_CACHE)
              : o.cacheDir,
        });
      }),

    listImages: (o) =>
      call(o, async (ctx) => {
        const { listImages } = await import("../ops/image.js");
        return listImages(ctx.host, ctx.paths.imagesDir);
      }),

    removeImage: (name, o) =>
      call(o, async (ctx) => {
        const { removeImage } = await import("../ops/image.js");
        return { name, removed: await removeImage(ctx, name) };
      }),

    cronInstall: (o = {}) =>
      call(o, async (ctx) => {
        const { cronInstall } = await import("../ops/cron.js");
        const schedule = o.schedule ?? "17 3 * * *";
        const script = o.script ?? cliScript();
        const r = await cronInstall(ctx, { ...cronTargets(o), schedule, timer: Boolean(o.timer), script });
        return { ok: true as const, files: r.files, command: r.job.argv, log: r.job.logFile };
      }),

    cronRemove: (o = {}) =>
      call(o, async (ctx) => {
        const { cronRemove } = await import("../ops/cron.js");
        return { ok: true as const, removed: await cronRemove(ctx, cronTargets(o)) };
      }),

    renderKubevirt: (name, o = {}) =>
      call(o, async (ctx) => {
        const { renderKubevirt } = await import("../ops/render.js");
        return renderKubevirt(ctx, {
          name,
          profile: o.profile,
          flags: { ...(o.settings ?? {}) },
          kubevirt: { ...DEFAULT_KUBEVIRT_OPTIONS, ...o.kubevirt },
          ...(o.outputDir !== undefined ? { outputDir: o.outputDir } : {}),
        });
      }),

    ephemeral: (o = {}) => ephemeralAgent(api, o),

    hosts: async (o = {}) => {
      const fleet = await fleetNow();
      const { hostInfo } = await import("../ops/fleet-hosts.js");
      const local = {
        ...localEntry(),
        labels: fleet.local.labels,
        maxAgents: fleet.local.maxAgents,
        memory: fleet.local.memory,
      };
      return Promise.all([local, ...fleet.remote.values()].map((e) => hostInfo(e, () => ctxOn(e, o))));
    },

    addHost: async (name, target, o = {}) => {
      const fl = await import("../ops/fleet.js");
      const { parseHosts, checkHostName, HOST_NAME_HINT } = await import("../core/fleet.js");
      const bad = name === LOCAL_HOST ? "is this machine's name in the fleet" : checkHostName(name);
      if (bad) throw new DataError(`host name ${JSON.stringify(name)} ${bad}`, { hint: HOST_NAME_HINT });
      const fleet = await fleetNow();
      if (fleet.remote.has(name))
        throw new DataError(`host ${name} is already in the fleet (${fleet.remote.get(name)?.source})`, {
          hint: `\`agentshare host rm ${name}\` first to change it`,
        });
      const raw: Record<string, unknown> = { ssh: target };
      for (const k of [
        "identity",
        "knownHosts",
        "root",
        "stateDir",
        "labels",
        "maxAgents",
        "memory",
      ] as const)
        if (o[k] !== undefined) raw[k] = o[k];
      const problems: string[] = [];
      const [entry] = parseHosts({ [name]: raw }, "host add", problems);
      if (!entry) throw new DataError(`cannot add host ${name}: ${problems.join("; ")}`);
      // log in once with the key pinned: a host known_hosts does not vouch for is refused here
      const { hostInfo } = await import("../ops/fleet-hosts.js");
      const { connectHost } = await import("../host/connect.js");
      const hc = await connectHost(entry);
      try {
        const info = await hostInfo(entry, async () => ({
          opts: { root: entry.root, stateDir: entry.stateDir, connect: entry.connect },
          paths: hostPaths(entry.root, entry.stateDir),
          host: hc.host,
          run: hc.host.run,
          out: reporterOf(o.onProgress ?? options.onProgress),
          clock,
        }));
        const file = await fl.readHostsFile(controller, opts.stateDir);
        await fl.writeHostsFile(controller, opts.stateDir, { ...file, [name]: raw });
        return { ok: true as const, host: info };
      } finally {
        await hc.close();
      }
    },

    removeHost: async (name, o = {}) => {
      const fl = await import("../ops/fleet.js");
      const file = await fl.readHostsFile(controller, opts.stateDir);
      if (!(name in file)) {
        const fleet = await fleetNow();
        const e = fleet.remote.get(name);
        throw e
          ? new DataError(`host ${name} is defined in ${e.source}, not by \`host add\``, {
              hint: `remove it from ${e.source}`,
            })
          : new NotFoundError(`no host named ${name} was added`, {
              hint: "`agentshare host list` shows the hosts",
            });
      }
      const placed = [...(await fl.placements(controller, opts.stateDir))].filter(([, h]) => h === name);
      if (placed.length && !o.force)
        throw new DataError(`host ${name} still has agents: ${placed.map(([n]) => n).join(", ")}`, {
          hint: "destroy them first, or pass --force to forget the host and its agents' records",
        });
      for (const [n] of placed) await fl.forgetPlacement(controller, opts.stateDir, n);
      delete file[name];
      await fl.writeHostsFile(controller, opts.stateDir, file);
      return { ok: true as const, name };
    },

    setupHost: async (name, o = {}) => {
      const fleet = await fleetNow();
      const { fleetHost } = await import("../ops/fleet.js");
      const e = fleetHost(fleet, name);
      const { readPackageText, PACKAGE_ROOT } = await import("../adapters/controller-files.js");
      const script = await readPackageText(join(PACKAGE_ROOT, "scripts", "host-setup.sh"));
      const ctx = await ctxOn(e, o);
      const r = await ctx.run("bash", ["-s"], { input: script, timeoutMs: 3_600_000 });
      const output = `${r.stdout}${r.stderr}`.slice(-64 * 1024);
      return { ok: r.exitCode === 0, name, exitCode: r.exitCode ?? 255, output };
    },

    sync: async (o = {}) => {
      const fleet = await fleetNow();
      const { syncHost } = await import("../ops/fleet-hosts.js");
      const { fleetHost } = await import("../ops/fleet.js");
      const only = o.host ?? options.host;
      const targets = only ? [fleetHost(fleet, only)] : [...fleet.remote.values()];
      const hosts = await Promise.all(
        targets
          .filter((e) => e.ssh)
          .map(async (e) => {
            try {
              const ctx = await remoteCtx(e, o);
              return await syncHost(controller, paths.global, ctx.host, ctx.paths.global);
            } catch (err) {
              const error = err instanceof Error ? err.message : String(err);
              return { host: e.name, ok: false, error, copied: [], same: 0, extra: [] };
            }
          }),
      );
      return { ok: hosts.every((h) => h.ok), hosts };
    },

    close: async () => {
      await pool?.close();
      pool = undefined;
    },
    [Symbol.asyncDispose]: () => api.close(),
  };
  return api;
}

const cronTargets = (o: CronParams) => ({
  cronFile: o.cronFile ?? process.env.AGENTSHARE_CRON_FILE ?? DEFAULT_CRON_FILE,
  unitDir: o.unitDir ?? process.env.AGENTSHARE_UNIT_DIR ?? DEFAULT_UNIT_DIR,
  systemdMarker: process.env.AGENTSHARE_SYSTEMD_MARKER ?? SYSTEMD_MARKER,
});

// The library's centre: createAgentshare() returns one object whose methods are the verbs. The
// CLI is one client of it (src/cli/*: flags → params → one call → text or --json of the result),
// a program is another. Each call builds the ops' context (src/ops/context.ts) with its own
// progress sink and abort signal; ops, adapters and heavy packages load on a verb's first call
// (ESLint keeps static imports out, as for the CLI), so a CLI start stays cheap.
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Runner } from "../adapters/runner.js";
import { lazyLocalHost } from "../host/lazy.js";
import { AGENT_NAME_HINT, checkAgentName } from "../core/names.js";
import {
  checkHostDir,
  DEFAULT_CRON_FILE,
  DEFAULT_IMAGE_CACHE,
  DEFAULT_ROOT,
  DEFAULT_STATE_DIR,
  DEFAULT_UNIT_DIR,
  hostPaths,
  SYSTEMD_MARKER,
  type HostPaths,
} from "../core/paths.js";
import { DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SIZE } from "../core/image-recipe.js";
import { DEFAULT_KUBEVIRT_OPTIONS } from "../core/kubevirt-options.js";
import { DataError, UsageError } from "../errors.js";
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
  provision(name: string, o?: ProvisionParams): Promise<ProvisionResult>;
  destroy(name: string, o?: DestroyParams): Promise<DestroyResult>;
  start(name: string, o?: StartParams): Promise<StartAgentResult>;
  stop(name: string, o?: StopParams): Promise<StopAgentResult>;
  restart(name: string, o?: StartParams & StopParams): Promise<RestartAgentResult>;
  list(o?: CallOptions): Promise<AgentStatus[]>;
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
  promote(file: string, o?: PromoteParams): Promise<PromoteResult & { ok: true }>;
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

  /** Runs one call: a signal aborted before it starts rejects at once. */
  const call = async <T>(o: CallOptions | undefined, fn: (ctx: OpContext) => Promise<T>): Promise<T> => {
    o?.signal?.throwIfAborted();
    const ctx = ctxOf(o);
    try {
      return await fn(ctx);
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
        return initTree({
          paths,
          host: ctx.host,
          mount: o.mount !== false,
          isRoot: process.getuid?.() === 0,
          bindReadOnly: (src, dst) => bindReadOnly(ctx.host, src, dst),
          mountInboxes: () => mountAllInboxes(ctx.host, paths),
        });
      }),

    provision: (name, o = {}) =>
      call(o, async (ctx) => {
        const { provision } = await import("../ops/provision.js");
        return provision(ctx, {
          name,
          profile: o.profile,
          flags: { ...(o.settings ?? {}) },
          dryRun: Boolean(o.dryRun),
          start: o.start !== false,
          wait: o.wait !== false,
          timeoutMs: o.timeoutMs ?? 600_000,
          recreate: Boolean(o.recreate),
        });
      }),

    destroy: (name, o = {}) =>
      call(o, async (ctx) => {
        const { destroyAgent } = await import("../ops/destroy.js");
        return destroyAgent(ctx, {
          name,
          purgeInbox: Boolean(o.purgeInbox),
          shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000,
        });
      }),

    start: (name, o = {}) =>
      call(o, async (ctx) => {
        const { startAgent } = await import("../ops/lifecycle.js");
        return startAgent(ctx, { name, wait: o.wait !== false, timeoutMs: o.timeoutMs ?? 600_000 });
      }),

    stop: (name, o = {}) =>
      call(o, async (ctx) => {
        const { stopAgent } = await import("../ops/lifecycle.js");
        return stopAgent(ctx, { name, shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000 });
      }),

    restart: (name, o = {}) =>
      call(o, async (ctx) => {
        const { restartAgent } = await import("../ops/lifecycle.js");
        return restartAgent(ctx, {
          name,
          wait: o.wait !== false,
          timeoutMs: o.timeoutMs ?? 600_000,
          shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000,
        });
      }),

    list: (o) =>
      call(o, async (ctx) => {
        const { listAgents } = await import("../ops/status.js");
        return listAgents(ctx);
      }),

    status: (name, o) =>
      call(o, async (ctx) => {
        const { agentStatus } = await import("../ops/status.js");
        return agentStatus(ctx, name);
      }),

    runs: (name, o) => call(o, async (ctx) => (await import("../ops/runs.js")).listRunInfos(ctx, name)),
    runFiles: (name, run, o) =>
      call(o, async (ctx) => (await import("../ops/runs.js")).listRunFiles(ctx, name, run)),
    openRunFile: (name, run, path, o) =>
      call(o, async (ctx) => (await import("../ops/runs.js")).openRunFile(ctx, name, run, path)),
    staging: (o) => call(o, async (ctx) => (await import("../ops/runs.js")).listStaging(ctx)),
    audit: (o = {}) => call(o, async (ctx) => (await import("../ops/runs.js")).readAuditTail(ctx, o.limit)),

    attach: (name, o = {}) =>
      attachEvents(name, o, async () => {
        assertName(name);
        if (o.endpoint) return o.endpoint;
        const { resolveAgentEndpoint } = await import("../ops/endpoint.js");
        return resolveAgentEndpoint(ctxOf({ signal: o.signal }), name);
      }),

    exec: (name, argv, o = {}) =>
      call(o, async (ctx) => {
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
            host: o.host,
            port: o.port,
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
        return out;
      }),

    promote: (file, o = {}) =>
      call(o, async (ctx) => {
        const { promote } = await import("../ops/promote.js");
        const r = await promote(ctx, { file, to: o.to ?? "tools", force: Boolean(o.force) });
        return { ok: true as const, ...r };
      }),

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
          ? await listInboxAgents(ctx.host, paths.root, (n) => checkAgentName(n) === undefined)
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
        return listImages(ctx.host, paths.imagesDir);
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
  };
  return api;
}

const cronTargets = (o: CronParams) => ({
  cronFile: o.cronFile ?? process.env.AGENTSHARE_CRON_FILE ?? DEFAULT_CRON_FILE,
  unitDir: o.unitDir ?? process.env.AGENTSHARE_UNIT_DIR ?? DEFAULT_UNIT_DIR,
  systemdMarker: process.env.AGENTSHARE_SYSTEMD_MARKER ?? SYSTEMD_MARKER,
});

// The public API's own types: what createAgentshare takes, what each call takes besides its
// arguments, and what reports progress. Results are the ops' own types (re-exported by
// src/index.ts): the objects `--json` prints.
import type { Runner } from "../adapters/runner.js";
import type { AgentConfig } from "../core/config.js";
import type { KubevirtOptions } from "../core/kubevirt-options.js";

export interface AgentshareOptions {
  /** Host tree root (env AGENTSHARE_ROOT, default /srv/agentshare). */
  root?: string;
  /** Host-only state (env AGENTSHARE_STATE_DIR, default /var/lib/agentshare). */
  stateDir?: string;
  /** libvirt connection URI (env AGENTSHARE_CONNECT, default qemu:///system). */
  connect?: string;
  /** Config file (env AGENTSHARE_CONFIG, default /etc/agentshare/config.yaml when it exists). */
  configFile?: string;
  /** The fleet host of every call that gives none (e.g. the CLI's --host). */
  host?: string;
  /** Progress of every call that has no `onProgress` of its own. */
  onProgress?: (e: ProgressEvent) => void;
  /** Receives one line per tool command run (argv, exit code, time): the CLI's --debug. */
  trace?: (line: string) => void;
  /** Runs the host's tools (virsh, qemu-img, mount, …); default: local processes. */
  runner?: Runner;
  /** The clock audit records and run names use; default: the system's. */
  clock?: () => Date;
}

/**
 * What an operation reports while it works. `progress` is a transient status (the CLI redraws
 * one line on a terminal), `done` ends it; `note` and `warning` are lines worth keeping.
 */
export type ProgressEvent =
  | { type: "progress"; message: string }
  | { type: "done" }
  | { type: "note"; message: string }
  | { type: "warning"; message: string };

/** Accepted by every call. */
export interface CallOptions {
  /**
   * The fleet host to run on ("local", or a name from the config's `hosts:` / `host add`); for a
   * verb on an agent, default: the host the agent was placed on; for provision, "auto" places it.
   */
  host?: string;
  /** Aborting rejects the call with the signal's reason; waits and tool runs stop early. */
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

/** An agent's settings for provision: the config file's `agent:` keys, highest layer. */
export type AgentSettings = Partial<AgentConfig> & {
  /** Size of the inbox's own file system, e.g. "10G". */
  inboxQuota?: string;
};

export interface AddHostParams extends CallOptions {
  /** Private key to log in with (default /root/.ssh/id_ed25519). */
  identity?: string;
  /** known_hosts that must already vouch for the host's key (default /root/.ssh/known_hosts). */
  knownHosts?: string;
  root?: string;
  stateDir?: string;
  labels?: Record<string, string>;
  maxAgents?: number;
  /** MiB the host's agents may reserve together. */
  memory?: number;
}

export interface ProvisionParams extends CallOptions {
  /** With placement (`host` "auto" or unset with hosts configured): only hosts with these labels. */
  selector?: Record<string, string>;
  /** VM profile from templates/ (default: the config file's, else "default"). */
  profile?: string;
  settings?: AgentSettings;
  /** Write domain.xml, user-data and meta-data to the state dir; touch nothing else. */
  dryRun?: boolean;
  /** Define only (default: start). */
  start?: boolean;
  /** Wait until the guest reports ready (default true). */
  wait?: boolean;
  /** How long to wait for ready (default 600 000). */
  timeoutMs?: number;
  /** Replace an existing agent whose spec changed (its inbox is kept). */
  recreate?: boolean;
}

export interface StartParams extends CallOptions {
  wait?: boolean;
  timeoutMs?: number;
}

export interface StopParams extends CallOptions {
  /** Graceful (ACPI) shutdown time before the VM is forced off (default 30 000). */
  shutdownTimeoutMs?: number;
}

export interface DestroyParams extends StopParams {
  /** Also delete the agent's inbox (its runs and outputs). */
  purgeInbox?: boolean;
}

export type AttachStream = "stdout" | "stderr" | "agent" | "combined";

export interface AttachParams {
  /** Default "stdout"; "combined" is stdout and stderr together. */
  stream?: AttachStream;
  /** Without `after`: start at the run's start (default) or end. */
  from?: "start" | "end";
  /** Without `after`: start this many lines before the end. */
  tail?: number;
  /** Resume after this event id: nothing before it again, nothing after it lost. */
  after?: string;
  /** Keep following the live run (default true); false ends after what exists. */
  follow?: boolean;
  signal?: AbortSignal;
  /** The health server's URL and token instead of looking the agent up (e.g. a port-forward). */
  endpoint?: { url: string; token: string };
  /** Reconnects and other things worth telling a person. */
  onNotice?: (message: string) => void;
  /**
   * While more than a MiB behind, catch up through plain bodies (far faster) before following
   * the event stream. One stream only; data events are then cut anywhere, not at line ends.
   */
  bulk?: boolean;
  /** Events held for a slow consumer before the connection pauses (default 8 MiB of data). */
  bufferBytes?: number;
}

/** One event of an agent's log stream, in order. */
export type AttachEvent =
  | { type: "data"; id: string; stream: "stdout" | "stderr" | "agent"; bytes: Uint8Array }
  /** A new run became current: what follows is its output. */
  | { type: "run"; id: string; run: string; prev: string | null }
  /** The file shrank (truncate) or was replaced (rotate): reading starts again at its start. */
  | { type: "truncate" | "rotate"; id: string; stream: "stdout" | "stderr" | "agent" }
  /** A run ended and all its bytes were sent; `persisted: false` means output was lost. */
  | { type: "exit"; run: string; exitCode: number | null; persisted: boolean; errors: string[] }
  /** The server has nothing more (follow: false, or no current run). */
  | { type: "end" };

export interface ExecParams extends CallOptions {
  /** Each chunk of the command's stdout, in order (default: dropped). */
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
  /** Or a stream to pipe the command's stdout into (with backpressure); wins over onStdout. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Pass this process's SIGINT, SIGTERM and SIGHUP on to the command (what the CLI does). */
  forwardSignals?: boolean;
  /** The command's stdin (default: none, it reads end of file at once). */
  stdin?: NodeJS.ReadableStream | string | Uint8Array;
  /** Give up after this long: the command gets SIGTERM and the call throws a ToolError. */
  timeoutMs?: number;
  /** Guest user (default "agent"). */
  user?: string;
  /** Through the per-run wrapper, as a new run in the inbox (default true). */
  run?: boolean;
  /** The guest's SSH address as the VM host sees it, instead of the agent's own (e.g. a forwarded port). */
  address?: string;
  port?: number;
}

export interface ExecResult {
  name: string;
  /** The command's exit code; 128+N when it died of signal N. */
  exitCode: number;
  signal?: string;
  /** The run it made (`run-YYYYmmdd-HHMMSS…`), when it went through the wrapper and the guest said. */
  run?: string;
  /** Where it ran (the guest's SSH address). */
  host: string;
  /** The fleet host the agent is on, when not this machine. */
  vmHost?: string;
}

export interface PromoteParams extends CallOptions {
  /** Global subfolder: tools (default), prompts, configs or content. */
  to?: "tools" | "prompts" | "configs" | "content";
  /** Replace an existing file in global (atomically). */
  force?: boolean;
}

export interface CollectParams extends CallOptions {
  /** Name in staging (default: the file's own). */
  as?: string;
  force?: boolean;
  /** Refuse files larger than this (default 1 GiB). */
  maxBytes?: number;
}

export interface PruneParams extends CallOptions {
  /** The agents whose inboxes to prune; or `all`. */
  agents?: string[];
  all?: boolean;
  keepLast?: number;
  /** A duration ("30d"), null for off; default from the config. */
  maxAge?: string | null;
  maxSize?: string | null;
  dryRun?: boolean;
  lockWaitMs?: number;
}

export interface BuildImageParams extends CallOptions {
  /** Default "debian-12". */
  name?: string;
  rebuild?: boolean;
  mirror?: string;
  /** Size of the image's file system (default 2G). */
  size?: string;
  /** Reuse finished images from here, by recipe hash; null for none (default /var/cache/agentshare, env AGENTSHARE_IMAGE_CACHE). */
  cacheDir?: string | null;
}

export interface CronParams extends CallOptions {
  cronFile?: string;
  unitDir?: string;
  /** 5-field cron schedule (default "17 3 * * *"). */
  schedule?: string;
  /** A systemd service + timer instead of cron. */
  timer?: boolean;
  /** The agentshare CLI script the job runs (default: the one installed beside this library). */
  script?: string;
}

export interface RenderKubevirtParams extends CallOptions {
  profile?: string;
  settings?: AgentSettings;
  /** Namespace, boot disk source, claims, Service type (docs/kubevirt.md); defaults as the CLI's. */
  kubevirt?: Partial<KubevirtOptions>;
  /** Write one file per object (and the host-side keys) into this new directory. */
  outputDir?: string;
}

export interface EphemeralParams extends Omit<ProvisionParams, "dryRun" | "recreate"> {
  /** The agent's name; default `${prefix}-` and 8 random hex digits. */
  name?: string;
  /** Default "eph". */
  prefix?: string;
  /** Keep the inbox when the agent is destroyed (default: delete it too). */
  keepInbox?: boolean;
}

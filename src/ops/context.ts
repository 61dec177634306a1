// What an op gets from its caller (the CLI today, the library API next): the host's paths, the
// host itself (files and tools: the seam, src/host/host.ts), the few global options ops read,
// where to report progress, and a clock. Ops never see the CLI: src/cli/context.ts builds one of
// these from the command line (ESLint enforces it).
import type { Runner } from "../adapters/runner.js";
import type { Host } from "../host/host.js";
import type { HostPaths } from "../core/paths.js";

export interface OpOptions {
  root: string;
  stateDir: string;
  /** libvirt connection URI. */
  connect: string;
  /** Config file; undefined for the default (/etc/agentshare/config.yaml). */
  config?: string;
}

/** Where an op reports while it works; the CLI prints these on stderr. */
export interface Reporter {
  warn(s: string): void;
  /** A line about what the op is doing. */
  note(s: string): void;
  /** A transient status line (the CLI shows it on a terminal only). */
  progress(s: string): void;
  progressDone(): void;
}

export interface OpContext {
  opts: OpOptions;
  paths: HostPaths;
  /** Every file and tool operation on the VM host goes through here (local or remote). */
  host: Host;
  /** The host's tools: the same Runner as `host.run`. */
  run: Runner;
  out: Reporter;
  clock: () => Date;
  /** The caller gave up: waits end and no new tool starts (the API's `signal`). */
  signal?: AbortSignal;
}

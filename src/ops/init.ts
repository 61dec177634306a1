// `agentshare init`: the host tree and the state dir. Idempotent: a second run creates
// nothing, changes no mode and never overwrites a file that exists.
import { dirname, join } from "node:path";
import { STATE_DIR_MODE } from "../adapters/fs.js";
import type { Host } from "../host/host.js";
import { GLOBAL_SUBDIRS, type HostPaths } from "../core/paths.js";
import { ConfigError } from "../errors.js";

export interface InitDeps {
  paths: HostPaths;
  /** The host the tree is made on. */
  host: Host;
  /** false with --no-mount: global-ro stays a plain folder and doctor reports it unprotected. */
  mount: boolean;
  /** Bind-mounts `source` read-only on `target` (idempotent) and proves it with a write that fails. */
  bindReadOnly: (source: string, target: string) => Promise<"mounted" | "already">;
  isRoot: boolean;
  /** Mounts the inbox file systems provision made that are not mounted (after a reboot); their names. */
  mountInboxes?: () => Promise<string[]>;
}

export interface InitReport {
  root: string;
  stateDir: string;
  created: string[];
  existing: string[];
  globalRo: "mounted" | "already" | "skipped";
  /** Agents whose inbox file system init mounted again. */
  inboxesMounted: string[];
}

/** The folders of the tree with their modes, parents first. */
export function treeLayout(p: HostPaths): Array<[string, number]> {
  return [
    [p.root, 0o755],
    [p.global, 0o755],
    ...GLOBAL_SUBDIRS.map((s): [string, number] => [join(p.global, s), 0o755]),
    [p.globalRo, 0o755],
    [p.staging, 0o770],
    // 0711, not 0700: QEMU runs as libvirt-qemu and must traverse to the agent's disk and seed
    // (measured: "Could not open …/seed.iso: Permission denied" under 0700). No listing for
    // others; every secret inside (token, user-data, keys) is a 0600 file.
    [p.stateDir, STATE_DIR_MODE],
    [p.agentsDir, 0o711],
    [p.imagesDir, 0o711],
    [p.inboxesDir, 0o700],
    [p.trash, 0o700],
    [p.locksDir, 0o700],
  ];
}

/** Creates the host tree and (as root) the read-only bind mount global-ro. */
export async function initTree(deps: InitDeps): Promise<InitReport> {
  const { paths } = deps;
  if (deps.mount && !deps.isRoot)
    throw new ConfigError("init must run as root to bind-mount global-ro read-only", [], {
      hint: "run it with sudo, or pass --no-mount (then `agentshare doctor` reports the global share as unprotected)",
    });
  const report: InitReport = {
    root: paths.root,
    stateDir: paths.stateDir,
    created: [],
    existing: [],
    globalRo: "skipped",
    inboxesMounted: [],
  };
  const { host } = deps;
  await host.mkdir(dirname(paths.root), { recursive: true, mode: 0o755 });
  for (const [dir, mode] of treeLayout(paths)) {
    const made = dir === paths.stateDir ? await host.ensureStateDir(dir) : await host.ensureDir(dir, mode);
    const list = made ? report.created : report.existing;
    list.push(dir);
  }
  if (deps.mount) report.globalRo = await deps.bindReadOnly(paths.global, paths.globalRo);
  if (deps.mount && deps.mountInboxes) report.inboxesMounted = await deps.mountInboxes();
  return report;
}

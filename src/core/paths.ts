// Where everything lives. Pure: derives paths, touches nothing.
import { join } from "node:path";
import { findXmlIllegal } from "./xml-text.js";

export const DEFAULT_ROOT = "/srv/agentshare";
export const DEFAULT_STATE_DIR = "/var/lib/agentshare";
export const DEFAULT_CONFIG_FILE = "/etc/agentshare/config.yaml";
/** Shared between state dirs (tests, CI): finished guest images by recipe key. */
export const DEFAULT_IMAGE_CACHE = "/var/cache/agentshare";
/** Where `cron install` writes, and the file that exists when systemd is the running init. */
export const DEFAULT_CRON_FILE = "/etc/cron.d/agentshare";
export const DEFAULT_UNIT_DIR = "/etc/systemd/system";
export const SYSTEMD_MARKER = "/run/systemd/system";
export const GLOBAL_SUBDIRS = ["tools", "prompts", "configs", "content"] as const;
export type GlobalSubdir = (typeof GLOBAL_SUBDIRS)[number];

/** virtiofs mount tags the guest mounts at /mnt/global and /mnt/inbox. */
export const GLOBAL_TAG = "agentglobal";
export const INBOX_TAG = "agentinbox";
export const INBOX_SUBDIRS = ["outputs", "logs", "runs"] as const;
/** File the guest writes into its inbox when it is ready: this provision's instance id. */
export const READY_MARKER = ".agentshare-ready";
/** File the guest writes into its inbox instead when it cannot get ready: instance id, then why. */
export const FAILED_MARKER = ".agentshare-failed";

export interface HostPaths {
  root: string;
  global: string;
  globalRo: string;
  staging: string;
  stateDir: string;
  agentsDir: string;
  imagesDir: string;
  /** One ext4 image per agent inbox (NAME.ext4), mounted at NAME/ (host-only), whose inbox/ is bound at <root>/NAME-inbox. */
  inboxesDir: string;
  trash: string;
  locksDir: string;
  auditLog: string;
}

/** Why a --root or --state-dir value cannot be used, or undefined: absolute, one line, storable in XML. */
export function checkHostDir(path: string): string | undefined {
  if (!path.startsWith("/")) return "must be an absolute path";
  if (/[\r\n\u0085\u2028\u2029]/.test(path)) return "must not contain a line break";
  if (findXmlIllegal(path)) return "must not contain control characters";
  if (path.length > 1024) return "must be at most 1024 characters";
  return undefined;
}

export function hostPaths(root: string, stateDir: string): HostPaths {
  return {
    root,
    global: join(root, "global"),
    globalRo: join(root, "global-ro"),
    staging: join(root, "staging"),
    stateDir,
    agentsDir: join(stateDir, "agents"),
    imagesDir: join(stateDir, "images"),
    inboxesDir: join(stateDir, "inboxes"),
    trash: join(stateDir, "trash"),
    locksDir: join(stateDir, "locks"),
    auditLog: join(stateDir, "audit.jsonl"),
  };
}

export interface AgentPaths {
  name: string;
  inbox: string;
  /** The inbox's file system image; kept (like the inbox) when the agent is destroyed. */
  inboxImage: string;
  /** Where that file system is mounted (host-only): inbox/ is what the guest gets, trash/ is prune's. */
  inboxFs: string;
  inboxTrash: string;
  readyMarker: string;
  failedMarker: string;
  dir: string;
  domainXml: string;
  userData: string;
  metaData: string;
  spec: string;
  seedIso: string;
  disk: string;
  consoleLog: string;
  token: string;
  sshKey: string;
  sshHostKeys: string;
}

/** Paths of one agent; `name` must already be validated (checkAgentName). */
export function agentPaths(p: HostPaths, name: string): AgentPaths {
  const dir = join(p.agentsDir, name);
  const inbox = join(p.root, `${name}-inbox`);
  return {
    name,
    inbox,
    inboxImage: join(p.inboxesDir, `${name}.ext4`),
    inboxFs: join(p.inboxesDir, name),
    inboxTrash: join(p.inboxesDir, name, "trash"),
    readyMarker: join(inbox, READY_MARKER),
    failedMarker: join(inbox, FAILED_MARKER),
    dir,
    domainXml: join(dir, "domain.xml"),
    userData: join(dir, "user-data"),
    metaData: join(dir, "meta-data"),
    spec: join(dir, "spec.json"),
    seedIso: join(dir, "seed.iso"),
    disk: join(dir, "disk.qcow2"),
    consoleLog: join(dir, "console.log"),
    token: join(dir, "token"),
    sshKey: join(dir, "id_ed25519"),
    sshHostKeys: join(dir, "known_hosts"),
  };
}

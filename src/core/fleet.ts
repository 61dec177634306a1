// The fleet (pure part): the hosts agentshare may put agents on, as the config file's `hosts:`
// map and `agentshare host add` record them, and where a new agent goes (placement).
import { DEFAULT_ROOT, DEFAULT_STATE_DIR, checkHostDir } from "./paths.js";

/** The machine agentshare runs on, always a host of the fleet. */
export const LOCAL_HOST = "local";
/** `--host auto`: let placement choose. */
export const AUTO_HOST = "auto";

const HOST_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const HOST_NAME_HINT =
  "a host name is 1–32 characters: a lowercase letter, then lowercase letters, digits or '-' (not 'auto')";

/** Why `name` is not a host name, or undefined. */
export function checkHostName(name: string): string | undefined {
  if (name === AUTO_HOST) return "'auto' is the placement choice, not a host";
  return HOST_NAME.test(name) ? undefined : "is not a valid host name";
}

export interface SshAddress {
  user: string;
  address: string;
  port: number;
}

/** `user@address[:port]` (an IPv6 address in brackets: `root@[::1]:2222`); a problem in words. */
export function parseSshTarget(text: string): SshAddress | { problem: string } {
  const m = /^([a-z_][a-z0-9_.-]*)@(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m)
    return { problem: `${JSON.stringify(text)} is not user@address[:port] (e.g. root@rack-a.example:22)` };
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65535) return { problem: `port ${m[3]} is not between 1 and 65535` };
  const address = (m[2] as string).replace(/^\[(.*)\]$/, "$1");
  return { user: m[1] as string, address, port };
}

export const formatSshTarget = (t: SshAddress): string =>
  `${t.user}@${t.address.includes(":") ? `[${t.address}]` : t.address}${t.port === 22 ? "" : `:${t.port}`}`;

/** One host of the fleet. The local machine has no `ssh`. */
export interface HostEntry {
  name: string;
  /** Where the entry came from (the config file, or the hosts file `host add` writes). */
  source: string;
  ssh: SshAddress | null;
  /** The private key to log in with (on the controlling machine). */
  identity: string;
  /** The known_hosts file that must vouch for the host's key (on the controlling machine). */
  knownHosts: string;
  /** The host's own host tree and state dir. */
  root: string;
  stateDir: string;
  /** libvirt URI as the host itself sees it (virsh runs there, over the SSH connection). */
  connect: string;
  labels: Record<string, string>;
  /** At most this many agents defined on the host; null: no limit. */
  maxAgents: number | null;
  /** MiB of memory the host's agents may reserve together; null: what the host reports free. */
  memory: number | null;
  /** The host's Node.js (≥ 18) for the host helper. */
  node: string;
}

export const DEFAULT_IDENTITY = "/root/.ssh/id_ed25519";
export const DEFAULT_KNOWN_HOSTS = "/root/.ssh/known_hosts";

const FIELDS = new Set([
  "ssh",
  "identity",
  "knownHosts",
  "root",
  "stateDir",
  "connect",
  "labels",
  "maxAgents",
  "memory",
  "node",
]);
const LOCAL_FIELDS = new Set(["labels", "maxAgents", "memory"]);
const LABEL = /^[a-z0-9][a-z0-9._/-]{0,62}$/i;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The `hosts:` map of one source, each problem pushed with its field path. An entry named `local`
 * may only set labels, maxAgents and memory (the local machine's SSH is none).
 */
export function parseHosts(data: unknown, source: string, problems: string[]): HostEntry[] {
  if (data === undefined || data === null) return [];
  if (!isObject(data)) {
    problems.push(`${source}: hosts: must be a mapping of host names to settings`);
    return [];
  }
  const out: HostEntry[] = [];
  for (const [name, raw] of Object.entries(data)) {
    const at = `${source}: hosts.${name}`;
    const bad = name === LOCAL_HOST ? undefined : checkHostName(name);
    if (bad) {
      problems.push(`${at}: ${bad} (${HOST_NAME_HINT})`);
      continue;
    }
    if (!isObject(raw)) {
      problems.push(
        `${at}: must be a mapping (ssh, identity, knownHosts, root, stateDir, labels, maxAgents, memory)`,
      );
      continue;
    }
    const before = problems.length;
    const allowed = name === LOCAL_HOST ? LOCAL_FIELDS : FIELDS;
    for (const k of Object.keys(raw))
      if (!allowed.has(k)) problems.push(`${at}.${k}: unknown key (known: ${[...allowed].join(", ")})`);
    const str = (k: string, dflt: string): string => {
      const v = raw[k];
      if (v === undefined) return dflt;
      if (typeof v !== "string" || v === "") problems.push(`${at}.${k}: must be a non-empty string`);
      return typeof v === "string" ? v : dflt;
    };
    const dir = (k: string, dflt: string): string => {
      const v = str(k, dflt);
      const rule = checkHostDir(v);
      if (rule) problems.push(`${at}.${k}: ${JSON.stringify(v)} ${rule}`);
      return v;
    };
    const count = (k: string): number | null => {
      const v = raw[k];
      if (v === undefined || v === null) return null;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        problems.push(`${at}.${k}: must be a whole number ≥ 0`);
        return null;
      }
      return v;
    };
    let ssh: SshAddress | null = null;
    if (name !== LOCAL_HOST) {
      if (raw.ssh === undefined) problems.push(`${at}.ssh: missing: give user@address[:port]`);
      else if (typeof raw.ssh !== "string") problems.push(`${at}.ssh: must be a string user@address[:port]`);
      else {
        const t = parseSshTarget(raw.ssh);
        if ("problem" in t) problems.push(`${at}.ssh: ${t.problem}`);
        else ssh = t;
      }
    }
    const labels: Record<string, string> = {};
    if (raw.labels !== undefined) {
      if (!isObject(raw.labels)) problems.push(`${at}.labels: must be a mapping of label names to values`);
      else
        for (const [k, v] of Object.entries(raw.labels)) {
          if (!LABEL.test(k)) problems.push(`${at}.labels.${k}: not a valid label name`);
          else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
            problems.push(`${at}.labels.${k}: must be a string`);
          else labels[k] = String(v);
        }
    }
    const entry: HostEntry = {
      name,
      source,
      ssh,
      identity: str("identity", DEFAULT_IDENTITY),
      knownHosts: str("knownHosts", DEFAULT_KNOWN_HOSTS),
      root: dir("root", DEFAULT_ROOT),
      stateDir: dir("stateDir", DEFAULT_STATE_DIR),
      connect: str("connect", "qemu:///system"),
      labels,
      maxAgents: count("maxAgents"),
      memory: count("memory"),
      node: str("node", "node"),
    };
    if (problems.length === before) out.push(entry);
  }
  return out;
}

/** Merges the sources; a name given in two of them is a problem (no silent override). */
export function mergeHosts(lists: readonly HostEntry[][], problems: string[]): Map<string, HostEntry> {
  const all = new Map<string, HostEntry>();
  for (const list of lists)
    for (const h of list) {
      const prev = all.get(h.name);
      if (prev) problems.push(`hosts.${h.name}: defined in both ${prev.source} and ${h.source}; keep one`);
      else all.set(h.name, h);
    }
  return all;
}

/** `zone=a,gpu=yes` → {zone: "a", gpu: "yes"}; a problem in words. */
export function parseSelector(text: string): Record<string, string> | { problem: string } {
  const out: Record<string, string> = {};
  for (const part of text.split(",").filter((p) => p !== "")) {
    const m = /^([^=\s]+)=([^=\s]*)$/.exec(part);
    if (!m || !LABEL.test(m[1] as string)) return { problem: `${JSON.stringify(part)} is not label=value` };
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** What placement knows of one host. */
export interface HostLoad {
  name: string;
  /** Why it is not a candidate (unreachable, …); undefined when it is one. */
  unavailable?: string;
  labels: Record<string, string>;
  agents: number;
  maxAgents: number | null;
  /** MiB the host reports available (MemAvailable). */
  availableMiB: number;
  /** MiB its defined agents that are not running would take when started. */
  reservedMiB: number;
  /** MiB all its defined agents are configured with. */
  definedMiB: number;
  memoryLimitMiB: number | null;
}

/** Memory a host keeps for itself beyond its agents' reservations. */
export const HOST_HEADROOM_MIB = 512;

export type Placement =
  { host: string; considered: PlacementNote[] } | { host?: undefined; considered: PlacementNote[] };
export interface PlacementNote {
  host: string;
  fits: boolean;
  why: string;
}

/**
 * The host for a new agent of `memoryMiB`: among hosts matching `selector` that are available,
 * under maxAgents and with room (available − reserved − headroom ≥ memory, and within the host's
 * memory limit), the one with the fewest agents; ties go to the most room, then the name.
 */
export function placeAgent(
  hosts: readonly HostLoad[],
  memoryMiB: number,
  selector: Record<string, string> = {},
): Placement {
  const notes: PlacementNote[] = [];
  const fit: { h: HostLoad; room: number }[] = [];
  for (const h of hosts) {
    const no = (why: string) => notes.push({ host: h.name, fits: false, why });
    const miss = Object.entries(selector).find(([k, v]) => h.labels[k] !== v);
    if (miss) no(`label ${miss[0]}=${miss[1]} does not match (${miss[0]}=${h.labels[miss[0]] ?? "unset"})`);
    else if (h.unavailable) no(h.unavailable);
    else if (h.maxAgents !== null && h.agents >= h.maxAgents) no(`at maxAgents (${h.agents}/${h.maxAgents})`);
    else if (h.memoryLimitMiB !== null && h.definedMiB + memoryMiB > h.memoryLimitMiB)
      no(`memory limit: ${h.definedMiB} MiB defined + ${memoryMiB} > ${h.memoryLimitMiB} MiB`);
    else {
      const room = h.availableMiB - h.reservedMiB - HOST_HEADROOM_MIB;
      if (room < memoryMiB)
        no(
          `not enough free memory: ${h.availableMiB} MiB available − ${h.reservedMiB} reserved − ${HOST_HEADROOM_MIB} headroom < ${memoryMiB}`,
        );
      else {
        fit.push({ h, room });
        notes.push({ host: h.name, fits: true, why: `${h.agents} agents, ${room} MiB room` });
      }
    }
  }
  fit.sort((a, b) => a.h.agents - b.h.agents || b.room - a.room || a.h.name.localeCompare(b.h.name));
  const best = fit[0];
  return best ? { host: best.h.name, considered: notes } : { considered: notes };
}

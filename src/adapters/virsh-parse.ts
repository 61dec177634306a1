// Parsers of virsh's text output (libvirt 9.0 wording, recorded under test/fixtures/virsh/). Pure.
import { InternalError } from "../errors.js";

export interface VirshVersion {
  /** libvirt library virsh uses, e.g. "9.0.0". */
  library: string;
  /** libvirt API version the daemon speaks ("Using API: QEMU 9.0.0"). */
  api?: string;
  /** Hypervisor name and version ("QEMU", "7.2.22"); absent when no hypervisor answered. */
  hypervisor?: { name: string; version: string };
  /** libvirtd's own version, from `virsh version --daemon` ("Running against daemon: 9.0.0"). */
  daemon?: string;
}

/** libvirt's "9.0.0" as a number (9000000), the form libvirt compares versions in. */
export function versionNumber(v: string): number {
  const [major = 0, minor = 0, micro = 0] = v.split(".").map((x) => Number.parseInt(x, 10) || 0);
  return major * 1_000_000 + minor * 1_000 + micro;
}

/** Parses `virsh version`: "Using library: libvirt 9.0.0", "Running hypervisor: QEMU 7.2.22". */
export function parseVersion(stdout: string): VirshVersion {
  const field = (label: string) => new RegExp(`^${label}:\\s*(\\S+)\\s+(\\S+)\\s*$`, "m").exec(stdout);
  const lib = field("Using library");
  if (!lib?.[2])
    throw new InternalError(
      `cannot read the libvirt version from \`virsh version\`: ${JSON.stringify(stdout)}`,
    );
  const api = field("Using API");
  const hv = field("Running hypervisor");
  const daemon = /^Running against daemon:\s*(\S+)\s*$/m.exec(stdout)?.[1];
  return {
    ...(daemon ? { daemon } : {}),
    library: lib[2],
    ...(api?.[2] ? { api: api[2] } : {}),
    ...(hv?.[1] && hv[2] ? { hypervisor: { name: hv[1], version: hv[2] } } : {}),
  };
}

/** `virsh domstate --reason` state names (libvirt's virshDomainStateToString). */
export type DomainStateName =
  | "running"
  | "idle"
  | "paused"
  | "in shutdown"
  | "shut off"
  | "crashed"
  | "pmsuspended"
  | "no state"
  | "unknown";

export interface DomainState {
  state: DomainStateName;
  /** Why, from `--reason`: "booted", "destroyed", "shutdown", "crashed", …; absent without --reason. */
  reason?: string;
}

const STATES: readonly DomainStateName[] = [
  "running",
  "idle",
  "paused",
  "in shutdown",
  "shut off",
  "crashed",
  "pmsuspended",
  "no state",
];

/** Parses `virsh domstate [--reason]`: "running (booted)", "shut off (destroyed)", "running". */
export function parseDomState(stdout: string): DomainState {
  const line = stdout.trim().split("\n")[0]?.trim() ?? "";
  const m = /^(.*?)(?:\s+\(([^)]*)\))?$/.exec(line);
  const name = m?.[1] ?? "";
  const state = STATES.find((s) => s === name) ?? "unknown";
  return m?.[2] ? { state, reason: m[2] } : { state };
}

/** Parses `virsh dominfo` / `net-info`: "Key:   value" lines into a record (keys as printed). */
export function parseKeyValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^([^:]+):\s*(.*?)\s*$/.exec(line);
    if (m?.[1]) out[m[1].trim()] = m[2] ?? "";
  }
  return out;
}

export interface DomainInfo {
  /** Runtime id; undefined when the domain is not running ("-"). */
  id?: number;
  name: string;
  uuid: string;
  state: DomainStateName;
  vcpus: number;
  maxMemoryKiB: number;
  persistent: boolean;
  autostart: boolean;
}

/** Parses `virsh dominfo NAME`. */
export function parseDomInfo(stdout: string): DomainInfo {
  const kv = parseKeyValues(stdout);
  if (!kv.Name || !kv.UUID)
    throw new InternalError(`cannot read \`virsh dominfo\` output: ${JSON.stringify(stdout)}`);
  const id = /^\d+$/.test(kv.Id ?? "") ? Number(kv.Id) : undefined;
  return {
    ...(id === undefined ? {} : { id }),
    name: kv.Name,
    uuid: kv.UUID,
    state: parseDomState(kv.State ?? "").state,
    vcpus: Number(kv["CPU(s)"] ?? 0),
    maxMemoryKiB: Number.parseInt(kv["Max memory"] ?? "0", 10),
    persistent: kv.Persistent === "yes",
    autostart: kv.Autostart === "enable",
  };
}

export interface InterfaceAddress {
  iface: string;
  mac: string;
  protocol: "ipv4" | "ipv6";
  address: string;
  prefix: number;
}

/**
 * Parses `virsh domifaddr` (any --source). An interface with several addresses prints its name
 * and MAC only on the first line; later lines have "-" there, so they inherit them.
 */
export function parseDomIfAddr(stdout: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  let iface = "";
  let mac = "";
  for (const line of stdout.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length !== 4 || !/^ipv[46]$/.test(cols[2] ?? "")) continue;
    const [name, hw, protocol, cidr] = cols as [string, string, "ipv4" | "ipv6", string];
    if (name !== "-") iface = name;
    if (hw !== "-") mac = hw;
    const slash = cidr.lastIndexOf("/");
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const prefix = slash < 0 ? (protocol === "ipv4" ? 32 : 128) : Number(cidr.slice(slash + 1));
    out.push({ iface, mac, protocol, address, prefix });
  }
  return out;
}

/** The IPv4 addresses in `virsh domifaddr` output, in order. */
export const parseIPv4Addresses = (stdout: string): string[] =>
  parseDomIfAddr(stdout)
    .filter((a) => a.protocol === "ipv4")
    .map((a) => a.address);

/** Parses `virsh list --name`: one domain name a line. */
export const parseListNames = (stdout: string): string[] =>
  stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");

export interface ListedDomain {
  id?: number;
  name: string;
  state: DomainStateName;
}

/** Parses the `virsh list --all` table (" Id   Name   State" / dashes / rows). */
export function parseList(stdout: string): ListedDomain[] {
  const rows: ListedDomain[] = [];
  for (const line of stdout.split("\n").slice(2)) {
    const m = /^\s*(\d+|-)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!m?.[1] || !m[2] || !m[3]) continue;
    rows.push({
      ...(m[1] === "-" ? {} : { id: Number(m[1]) }),
      name: m[2],
      state: parseDomState(m[3]).state,
    });
  }
  return rows;
}

export interface NetworkInfo {
  name: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  bridge?: string;
}

/** Parses `virsh net-info NAME`. */
export function parseNetInfo(stdout: string): NetworkInfo {
  const kv = parseKeyValues(stdout);
  if (!kv.Name) throw new InternalError(`cannot read \`virsh net-info\` output: ${JSON.stringify(stdout)}`);
  return {
    name: kv.Name,
    active: kv.Active === "yes",
    persistent: kv.Persistent === "yes",
    autostart: kv.Autostart === "yes",
    ...(kv.Bridge ? { bridge: kv.Bridge } : {}),
  };
}

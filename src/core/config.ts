// Config pipeline (pure part): layers of plain objects → merged, typed, validated config.
// Layering: built-in < profile (templates/NAME.yaml) < config file < config file's agents.NAME < flags.
// Every problem is reported with its source and field path, never just the first.
import { findXmlIllegal } from "./xml-text.js";
import { parseDuration, parseSize } from "./units.js";

/** Smallest inbox file system: ext4's journal and metadata with room to spare. */
export const MIN_INBOX_BYTES = 32 * 1024 * 1024;

/** TCG translation cache per agent, chosen by measurement (docs/benchmarks.md, issue 13 goal 3). */
export const TCG_CACHE_DEFAULT_MIB = 64;
/** QEMU's bounds for tb-size on x86_64 hosts: 1 MiB to 2 GiB. */
export const TCG_CACHE_MAX_MIB = 2048;

export type DomainTypeChoice = "kvm" | "qemu" | "auto";
/** How the host reaches the guest: its address on the libvirt network, or ports forwarded to 127.0.0.1. */
export type AccessMode = "network" | "loopback";

export interface AgentConfig {
  memory: number;
  vcpus: number;
  disk: string;
  image: string | null;
  network: string | null;
  access: AccessMode;
  uid: number;
  gid: number;
  sshKeys: string[];
  command: string;
  description: string;
  healthPort: number;
  tmpSize: string;
  domainType: DomainTypeChoice;
  kernel: string | null;
  initrd: string | null;
  cmdline: string;
  /** MiB of TCG translation cache (`<tb-cache>`, domain type qemu only); null: QEMU's own default (1 GiB). */
  tcgCache: number | null;
  /** Guest pages the guest frees go back to the host (virtio balloon free page reporting). */
  freePageReporting: boolean;
}

export interface RetentionConfig {
  keepLast: number;
  maxAge: string | null;
  maxSize: string | null;
}

export interface Config {
  agent: AgentConfig;
  retention: RetentionConfig;
  /** Size of the inbox's own file system: a hard limit on what the guest can write (never null). */
  inboxQuota: string;
}

export const BUILTIN_CONFIG: Config = {
  agent: {
    memory: 1024,
    vcpus: 2,
    disk: "20G",
    image: "debian-12",
    network: "default",
    access: "network",
    uid: 1000,
    gid: 1000,
    sshKeys: [],
    command: "",
    description: "",
    healthPort: 8118,
    tmpSize: "512m",
    domainType: "auto",
    kernel: null,
    initrd: null,
    cmdline: "console=ttyS0",
    tcgCache: TCG_CACHE_DEFAULT_MIB,
    freePageReporting: true,
  },
  retention: { keepLast: 20, maxAge: "30d", maxSize: null },
  inboxQuota: "10G",
};

/** One source of settings: a parsed YAML document or the command-line flags. */
export interface ConfigLayer {
  source: string;
  data: unknown;
}

type Check = (v: unknown) => { value?: unknown; problem?: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const int =
  (min: number, max: number, unit = ""): Check =>
  (v) => {
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) return { problem: `must be a whole number${unit}` };
    if (n < min || n > max) return { problem: `must be between ${min} and ${max}${unit} (got ${n})` };
    return { value: n };
  };

const text =
  (opts: { oneLine?: boolean; pattern?: RegExp; rule?: string } = {}): Check =>
  (v) => {
    if (typeof v !== "string") return { problem: "must be a string" };
    const bad = findXmlIllegal(v);
    if (bad) {
      const cp = `U+${bad.codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
      return {
        problem: `contains ${cp} at position ${bad.index}, a control character that cannot be stored`,
      };
    }
    if (opts.oneLine && /[\r\n]/.test(v)) return { problem: "must be a single line" };
    if (opts.pattern && !opts.pattern.test(v)) return { problem: opts.rule ?? `must match ${opts.pattern}` };
    return { value: v };
  };

const nullable =
  (inner: Check): Check =>
  (v) =>
    v === null ? { value: null } : inner(v);

const bool: Check = (v) => {
  if (v === true || v === "true") return { value: true };
  if (v === false || v === "false") return { value: false };
  return { problem: "must be true or false" };
};

const absPath = text({ oneLine: true, pattern: /^\/./, rule: "must be an absolute path" });
const sizeText = (rule: string): Check => text({ pattern: /^\d+(\.\d+)?\s*[kmgtKMGT]?(i?[bB])?$/, rule });

const imageRef = text({
  oneLine: true,
  pattern: /^(\/.+|[a-z0-9][a-z0-9._-]*)$/,
  rule: "must be an absolute path to a qcow2 image or the name of an image in <state-dir>/images",
});

/** TCP ports the guest itself listens on, which its health server can therefore never bind. */
export const GUEST_PORTS: ReadonlyMap<number, string> = new Map([
  [22, "the guest's SSH server"],
  [53, "the guest's DNS resolver (systemd-resolved)"],
  [5355, "the guest's LLMNR responder (systemd-resolved)"],
]);

const AGENT_FIELDS: Record<keyof AgentConfig, Check> = {
  memory: int(256, 1024 * 1024, " MiB"),
  vcpus: int(1, 256),
  disk: sizeText('must be a size such as "20G"'),
  image: nullable(imageRef),
  network: nullable(text({ pattern: /^[A-Za-z0-9_.-]+$/, rule: "must be a libvirt network name" })),
  access: text({ pattern: /^(network|loopback)$/, rule: "must be network or loopback" }),
  uid: int(1, 2 ** 31 - 2),
  gid: int(1, 2 ** 31 - 2),
  sshKeys: (v) => {
    if (!Array.isArray(v)) return { problem: "must be a list of public keys" };
    return { value: v };
  },
  command: text(),
  description: text(),
  healthPort: (v) => {
    const r = int(1, 65535)(v);
    const port = r.value as number | undefined;
    if (port === undefined || (port >= 1024 && !GUEST_PORTS.has(port))) return r;
    const why =
      GUEST_PORTS.get(port) ??
      "below 1024, which the guest's health server may not bind (it runs without CAP_NET_BIND_SERVICE)";
    return { problem: `${port} cannot be used: it is ${why}; use a port from 1024 to 65535 such as 8118` };
  },
  tmpSize: text({ pattern: /^[1-9]\d*[mg]$/, rule: 'must be a number followed by m or g, e.g. "512m"' }),
  domainType: text({ pattern: /^(kvm|qemu|auto)$/, rule: "must be kvm, qemu or auto" }),
  kernel: nullable(absPath),
  initrd: nullable(absPath),
  cmdline: text({ oneLine: true }),
  tcgCache: nullable(int(16, TCG_CACHE_MAX_MIB, " MiB")),
  freePageReporting: bool,
};

const RETENTION_FIELDS: Record<keyof RetentionConfig, Check> = {
  keepLast: int(1, 1_000_000),
  maxAge: nullable(text({ pattern: /^\d+\s*[smhdw]$/i, rule: 'must be a duration such as "30d"' })),
  maxSize: nullable(sizeText('must be a size such as "5G"')),
};

const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?$/;

function checkSshKeys(keys: unknown[], path: string, problems: string[]): string[] {
  const out: string[] = [];
  keys.forEach((k, i) => {
    const r = text({ oneLine: true })(k);
    if (r.problem) problems.push(`${path}[${i}]: ${r.problem}`);
    else if (!SSH_KEY.test(k as string))
      problems.push(`${path}[${i}]: must be an OpenSSH public key line ("ssh-ed25519 AAAA… comment")`);
    else out.push(k as string);
  });
  return out;
}

function applyFields<T extends object>(
  target: T,
  fields: Record<string, Check>,
  data: Record<string, unknown>,
  where: string,
  problems: string[],
  skip: ReadonlySet<string> = new Set(),
): void {
  for (const [key, raw] of Object.entries(data)) {
    if (skip.has(key)) continue;
    const check = fields[key];
    if (!check) {
      problems.push(`${where}${key}: unknown key (known: ${[...Object.keys(fields), ...skip].join(", ")})`);
      continue;
    }
    const r = check(raw);
    if (r.problem) problems.push(`${where}${key}: ${r.problem}`);
    else if (key === "sshKeys")
      (target as Record<string, unknown>)[key] = checkSshKeys(raw as unknown[], `${where}${key}`, problems);
    else (target as Record<string, unknown>)[key] = r.value;
  }
}

const TOP_LEVEL = new Set(["retention", "inboxQuota", "agents", "profile", "hosts"]);

/** Merges the layers in order over the built-in defaults; returns the config and every problem found. */
export function resolveConfig(
  layers: readonly ConfigLayer[],
  agentName?: string,
): { config: Config; problems: string[] } {
  const config: Config = structuredClone(BUILTIN_CONFIG);
  const problems: string[] = [];
  const apply = (data: unknown, where: string) => {
    if (data === undefined || data === null) return;
    if (!isObject(data)) {
      problems.push(`${where}must be a mapping of keys to values`);
      return;
    }
    applyFields(config.agent, AGENT_FIELDS, data, where, problems, TOP_LEVEL);
    if (data.retention !== undefined) {
      if (isObject(data.retention))
        applyFields(config.retention, RETENTION_FIELDS, data.retention, `${where}retention.`, problems);
      else problems.push(`${where}retention: must be a mapping`);
    }
    if (data.inboxQuota !== undefined) {
      const r = sizeText('must be a size such as "10G" (every inbox has a limit)')(data.inboxQuota);
      if (r.problem) problems.push(`${where}inboxQuota: ${r.problem}`);
      else config.inboxQuota = r.value as string;
    }
    if (data.agents !== undefined && !isObject(data.agents))
      problems.push(`${where}agents: must be a mapping of agent names`);
    return data;
  };
  for (const layer of layers) {
    const where = `${layer.source}: `;
    const data = apply(layer.data, where);
    const perAgent = data && isObject(data.agents) && agentName ? data.agents[agentName] : undefined;
    if (perAgent !== undefined) apply(perAgent, `${where}agents.${agentName}.`);
  }
  problems.push(...crossCheck(config));
  return { config, problems };
}

/** /tmp (a tmpfs: RAM, then swap) may be at most this many times the VM's memory. */
export const TMP_PER_MEMORY = 4;

/** "512m" → 512, "2g" → 2048 (MiB); undefined for a text the field check refuses. */
export function tmpSizeMiB(text: string): number | undefined {
  const m = /^([1-9]\d*)([mg])$/.exec(text);
  return m ? Number(m[1]) * (m[2] === "g" ? 1024 : 1) : undefined;
}

function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  const a = c.agent;
  if (!a.image && !a.kernel) problems.push("image: set an image, or a kernel for direct kernel boot");
  if (a.initrd && !a.kernel) problems.push("initrd: needs kernel to be set as well");
  if (parseSize(a.disk) === undefined || (parseSize(a.disk) ?? 0) < 64 * 1024 ** 2)
    problems.push(`disk: must be at least 64M (got ${JSON.stringify(a.disk)})`);
  if ((parseSize(c.inboxQuota) ?? 0) < MIN_INBOX_BYTES)
    problems.push(`inboxQuota: must be at least 32M (got ${JSON.stringify(c.inboxQuota)})`);
  const tmpMiB = tmpSizeMiB(a.tmpSize);
  if (tmpMiB !== undefined && tmpMiB > TMP_PER_MEMORY * a.memory)
    problems.push(
      `tmpSize: must be at most ${TMP_PER_MEMORY} × memory (${TMP_PER_MEMORY * a.memory}m for ${a.memory} MiB): /tmp is a tmpfs in the guest's RAM and swap (got ${JSON.stringify(a.tmpSize)})`,
    );
  if (c.retention.maxAge !== null && !parseDuration(c.retention.maxAge))
    problems.push("retention.maxAge: must be greater than zero");
  return problems;
}

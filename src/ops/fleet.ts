// The fleet as the controlling machine records it: the hosts (the config file's `hosts:` map and
// the hosts file `agentshare host add` writes, <state-dir>/fleet/hosts.json), and which host each
// remote agent is on (<state-dir>/fleet/agents/NAME.json; an agent with no record is local).
// These are the controlling machine's own files: `controller` is its local host.
import { join } from "node:path";
import yaml from "js-yaml";
import { readConfigText } from "../adapters/controller-files.js";
import {
  checkHostName,
  HOST_NAME_HINT,
  LOCAL_HOST,
  mergeHosts,
  parseHosts,
  type HostEntry,
  type HostLoad,
} from "../core/fleet.js";
import { DEFAULT_CONFIG_FILE } from "../core/paths.js";
import { ConfigError, DataError, NotFoundError } from "../errors.js";
import type { Host } from "../host/host.js";
import { provisionedAgentNames } from "./agent-name.js";
import { readStoredSpec } from "./provision-files.js";

export interface FleetFiles {
  dir: string;
  hostsFile: string;
  agentsDir: string;
}

export const fleetFiles = (stateDir: string): FleetFiles => {
  const dir = join(stateDir, "fleet");
  return { dir, hostsFile: join(dir, "hosts.json"), agentsDir: join(dir, "agents") };
};

/** The `hosts:` map of the config file (undefined when it has none). */
async function configHosts(configFile: string | undefined): Promise<{ data: unknown; source: string }> {
  const file = configFile ?? DEFAULT_CONFIG_FILE;
  const text = await readConfigText(file, configFile !== undefined);
  if (text === undefined) return { data: undefined, source: file };
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const data = doc && typeof doc === "object" ? (doc as { hosts?: unknown }).hosts : undefined;
  return { data, source: file };
}

/** Every host of the fleet but the local machine, and the local machine's own entry (labels, limits). */
export interface Fleet {
  local: HostEntry;
  remote: Map<string, HostEntry>;
}

/** Loads the fleet: config file + hosts file; ConfigError listing every problem. */
export async function loadFleet(
  controller: Host,
  o: { configFile?: string; root: string; stateDir: string },
): Promise<Fleet> {
  const problems: string[] = [];
  const fromConfig = await configHosts(o.configFile);
  const files = fleetFiles(o.stateDir);
  const added = await controller.readText(files.hostsFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  let addedData: unknown;
  try {
    addedData = added === undefined ? undefined : JSON.parse(added);
  } catch {
    problems.push(`${files.hostsFile}: not valid JSON (it is written by \`agentshare host add\`)`);
  }
  const all = mergeHosts(
    [
      parseHosts(fromConfig.data, fromConfig.source, problems),
      parseHosts(addedData, files.hostsFile, problems),
    ],
    problems,
  );
  if (problems.length)
    throw new ConfigError("invalid hosts", problems, { hint: "fix the host entries listed (docs/fleet.md)" });
  const localGiven = all.get(LOCAL_HOST);
  all.delete(LOCAL_HOST);
  const local: HostEntry = {
    name: LOCAL_HOST,
    source: localGiven?.source ?? "built-in",
    ssh: null,
    identity: "",
    knownHosts: "",
    root: o.root,
    stateDir: o.stateDir,
    connect: "",
    labels: localGiven?.labels ?? {},
    maxAgents: localGiven?.maxAgents ?? null,
    memory: localGiven?.memory ?? null,
    node: "node",
  };
  return { local, remote: all };
}

/** The entry named `name` ("local" included); NotFoundError naming the known ones. */
export function fleetHost(fleet: Fleet, name: string): HostEntry {
  if (name === LOCAL_HOST) return fleet.local;
  const bad = checkHostName(name);
  if (bad) throw new DataError(`host ${JSON.stringify(name)} ${bad}`, { hint: HOST_NAME_HINT });
  const h = fleet.remote.get(name);
  if (!h)
    throw new NotFoundError(`no host named ${name}`, {
      hint: `known hosts: ${[LOCAL_HOST, ...fleet.remote.keys()].join(", ")}; add one with \`agentshare host add NAME user@address\``,
    });
  return h;
}

/** The hosts file's entries as written (host add/rm edit it). */
export async function readHostsFile(controller: Host, stateDir: string): Promise<Record<string, unknown>> {
  const text = await controller.readText(fleetFiles(stateDir).hostsFile).catch(() => undefined);
  if (text === undefined) return {};
  const doc = JSON.parse(text) as unknown;
  return doc && typeof doc === "object" ? (doc as Record<string, unknown>) : {};
}

export async function writeHostsFile(
  controller: Host,
  stateDir: string,
  hosts: Record<string, unknown>,
): Promise<void> {
  const f = fleetFiles(stateDir);
  await controller.ensureStateDir(stateDir);
  await controller.ensureDir(f.dir, 0o700);
  await controller.writeFileAtomic(f.hostsFile, `${JSON.stringify(hosts, null, 2)}\n`, 0o600);
}

/** Where agent `name` is: its record's host, else undefined (local). */
export async function placementOf(
  controller: Host,
  stateDir: string,
  name: string,
): Promise<string | undefined> {
  const text = await controller
    .readText(join(fleetFiles(stateDir).agentsDir, `${name}.json`))
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
  if (text === undefined) return undefined;
  const host = (JSON.parse(text) as { host?: unknown }).host;
  return typeof host === "string" ? host : undefined;
}

export async function recordPlacement(
  controller: Host,
  stateDir: string,
  name: string,
  host: string,
  at: Date,
): Promise<void> {
  const f = fleetFiles(stateDir);
  await controller.ensureStateDir(stateDir);
  await controller.ensureDir(f.dir, 0o700);
  await controller.ensureDir(f.agentsDir, 0o700);
  await controller.writeFileAtomic(
    join(f.agentsDir, `${name}.json`),
    `${JSON.stringify({ name, host, placedAt: at.toISOString() })}\n`,
    0o600,
  );
}

export async function forgetPlacement(controller: Host, stateDir: string, name: string): Promise<void> {
  await controller.rm(join(fleetFiles(stateDir).agentsDir, `${name}.json`), { force: true });
}

/** Every recorded remote agent: name → host. */
export async function placements(controller: Host, stateDir: string): Promise<Map<string, string>> {
  const files = await controller.readdir(fleetFiles(stateDir).agentsDir).catch(() => []);
  const out = new Map<string, string>();
  for (const f of files) {
    if (!f.name.endsWith(".json")) continue;
    const name = f.name.slice(0, -5);
    const host = await placementOf(controller, stateDir, name).catch(() => undefined);
    if (host) out.set(name, host);
  }
  return out;
}

/** MemAvailable of /proc/meminfo, in MiB. */
export function memAvailableMiB(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

/** What placement needs of one reachable host: its agents, their memory, and its free memory. */
export async function hostLoad(
  host: Host,
  entry: HostEntry,
  agentsDir: string,
  runningNames: ReadonlySet<string>,
): Promise<HostLoad> {
  const names = await provisionedAgentNames(host, agentsDir);
  let definedMiB = 0;
  let reservedMiB = 0;
  for (const n of names) {
    const spec = await readStoredSpec(host, join(agentsDir, n, "spec.json")).catch(() => undefined);
    const mem = spec?.config.memory ?? 0;
    definedMiB += mem;
    if (!runningNames.has(n)) reservedMiB += mem;
  }
  const available = memAvailableMiB(await host.readText("/proc/meminfo")) ?? 0;
  return {
    name: entry.name,
    labels: entry.labels,
    agents: names.length,
    maxAgents: entry.maxAgents,
    availableMiB: available,
    reservedMiB,
    definedMiB,
    memoryLimitMiB: entry.memory,
  };
}

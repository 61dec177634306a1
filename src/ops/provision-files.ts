// The files provision keeps for every agent in <state-dir>/agents/NAME/ (0700, host-only).
import { dirname, join } from "node:path";
import type { HostForward } from "../core/agent-plan.js";
import type { Host } from "../host/host.js";
import type { PreparedAgent } from "./agent-spec.js";

/** What spec.json records: enough to tell "same spec" from "changed spec" and to find the agent again. */
export interface StoredSpec {
  name: string;
  specHash: string;
  instanceId: string;
  uuid: string;
  createdAt: string;
  profile: string;
  domainType: "kvm" | "qemu";
  healthPort: number;
  /** With `access: loopback`: where on 127.0.0.1 the guest's health server and SSH are forwarded. */
  forward?: HostForward;
  /** Size of the inbox's file system when it was provisioned (absent in specs from before limits). */
  inboxLimitBytes?: number;
  config: PreparedAgent["inputs"]["config"];
}

export function storedSpecOf(p: PreparedAgent): StoredSpec {
  const i = p.inputs;
  return {
    name: i.name,
    specHash: p.plan.specHash,
    instanceId: i.instanceId,
    uuid: i.uuid,
    createdAt: i.createdAt,
    profile: p.profile,
    domainType: i.domainType,
    healthPort: i.config.healthPort,
    ...(i.forward ? { forward: i.forward } : {}),
    inboxLimitBytes: p.inboxLimitBytes,
    config: i.config,
  };
}

export async function readStoredSpec(
  host: Pick<Host, "readText">,
  specFile: string,
): Promise<StoredSpec | undefined> {
  try {
    return JSON.parse(await host.readText(specFile)) as StoredSpec;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export interface WrittenFiles {
  dir: string;
  domainXml: string;
  userData: string;
  metaData: string;
}

/** Writes domain.xml, user-data and meta-data (each atomically, 0600: user-data holds the token) into `dir`. */
export async function writeAgentDocuments(host: Host, dir: string, p: PreparedAgent): Promise<WrittenFiles> {
  await host.ensureDir(dir, 0o700);
  const files = {
    dir,
    domainXml: join(dir, "domain.xml"),
    userData: join(dir, "user-data"),
    metaData: join(dir, "meta-data"),
  };
  await host.writeFileAtomic(files.domainXml, p.plan.domainXml, 0o600);
  await host.writeFileAtomic(files.userData, p.plan.userData, 0o600);
  await host.writeFileAtomic(files.metaData, p.plan.metaData, 0o600);
  return files;
}

/**
 * Dry run: the documents go to agents/NAME/ for a new agent, and to agents/NAME/dry-run/
 * when the agent already exists, so a dry run never changes a live agent's files.
 */
export async function writeDryRun(host: Host, agentsDir: string, p: PreparedAgent): Promise<WrittenFiles> {
  await host.ensureStateDir(dirname(agentsDir));
  await host.ensureDir(agentsDir, 0o711);
  const dir = p.inputs.agent.dir;
  const exists = await host.lstat(p.inputs.agent.spec);
  return writeAgentDocuments(host, exists ? join(dir, "dry-run") : dir, p);
}

// Everything provision will create for one agent, computed up front and without I/O:
// the domain XML, the cloud-init documents and the spec hash that makes provision idempotent.
import { createHash } from "node:crypto";
import type { AgentConfig } from "./config.js";
import { buildMetaData, buildUserData, type GuestPayload } from "./cloud-init.js";
import { buildDomainXml } from "./domain-xml.js";
import type { AgentPaths, HostPaths } from "./paths.js";

export interface PlanInputs {
  name: string;
  config: AgentConfig;
  host: HostPaths;
  agent: AgentPaths;
  domainType: "kvm" | "qemu";
  /** libvirt accepts `<readonly/>` on virtiofs (≥ 11.0). */
  readonlyVirtiofs: boolean;
  /** Per-provision values, passed in so output is deterministic. */
  instanceId: string;
  uuid: string;
  token: string;
  createdAt: string;
  /** The wrapper and the health server a real guest runs (from the seed ISO). */
  guest?: GuestPayload;
  /** Keys made on the host: the guest's host key (pinned) and agentshare's own client key. */
  keys?: { hostPrivateKey: string; hostPublicKey: string; clientPublicKey: string };
  /**
   * The kernel that comes with a base image built by `agentshare image build` (it has no
   * bootloader); used for direct kernel boot when the config names no kernel of its own.
   */
  imageKernel?: { path: string; initrd: string; cmdline: string };
  /** Host ports on 127.0.0.1 for the guest's health server and SSH, with `access: loopback`. */
  forward?: HostForward;
}

export interface HostForward {
  health: number;
  ssh: number;
}

export interface AgentPlan {
  specHash: string;
  imagePath: string | null;
  domainXml: string;
  userData: string;
  metaData: string;
}

/** Identity of what the user asked for: same hash → re-provision is a no-op. */
export function specHashOf(inputs: Pick<PlanInputs, "name" | "config" | "host" | "domainType">): string {
  const canonical = JSON.stringify({
    name: inputs.name,
    root: inputs.host.root,
    domainType: inputs.domainType,
    config: Object.fromEntries(Object.entries(inputs.config).sort(([a], [b]) => a.localeCompare(b))),
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/** A name resolves to <state-dir>/images/NAME.qcow2; an absolute path is used as it is. */
export function resolveImagePath(image: string | null, host: HostPaths): string | null {
  if (!image) return null;
  return image.startsWith("/") ? image : `${host.imagesDir}/${image}.qcow2`;
}

/** Kernel command line for direct kernel boot: the base one plus what the guest needs to know. */
export function kernelCmdline(inputs: PlanInputs, base: string = inputs.config.cmdline): string {
  const c = inputs.config;
  return [
    base,
    `agentshare.instance=${inputs.instanceId}`,
    `agentshare.uid=${c.uid}`,
    `agentshare.gid=${c.gid}`,
  ]
    .filter(Boolean)
    .join(" ");
}

/** Direct kernel boot: the configured kernel first, else the image's own; none → boot the disk. */
function kernelOf(inputs: PlanInputs) {
  const { config: c, imageKernel: ik } = inputs;
  if (c.kernel)
    return {
      kernel: { path: c.kernel, ...(c.initrd ? { initrd: c.initrd } : {}), cmdline: kernelCmdline(inputs) },
    };
  if (ik && c.image)
    return { kernel: { path: ik.path, initrd: ik.initrd, cmdline: kernelCmdline(inputs, ik.cmdline) } };
  return {};
}

function loopbackForwardOf(inputs: PlanInputs) {
  const f = inputs.forward;
  if (!f) throw new Error("access: loopback needs the host ports in PlanInputs.forward");
  return [
    { hostPort: f.health, guestPort: inputs.config.healthPort },
    { hostPort: f.ssh, guestPort: 22 },
  ];
}

export function planAgent(inputs: PlanInputs): AgentPlan {
  const { config: c, agent, host } = inputs;
  const specHash = specHashOf(inputs);
  const imagePath = resolveImagePath(c.image, host);
  const domainXml = buildDomainXml({
    name: inputs.name,
    uuid: inputs.uuid,
    description: c.description,
    memoryMiB: c.memory,
    vcpus: c.vcpus,
    domainType: inputs.domainType,
    ...(imagePath ? { diskPath: agent.disk } : {}),
    ...kernelOf(inputs),
    seedIso: agent.seedIso,
    globalDir: host.globalRo,
    inboxDir: agent.inbox,
    readonlyGlobal: inputs.readonlyVirtiofs,
    network: c.network,
    ...(c.access === "loopback" ? { loopbackForward: loopbackForwardOf(inputs) } : {}),
    consoleLog: agent.consoleLog,
    ...(c.tcgCache !== null ? { tcgCacheMiB: c.tcgCache } : {}),
    freePageReporting: c.freePageReporting,
    metadata: { specHash, createdAt: inputs.createdAt, command: c.command, instanceId: inputs.instanceId },
  });
  const userData = buildUserData({
    name: inputs.name,
    uid: c.uid,
    gid: c.gid,
    sshKeys: inputs.keys ? [...c.sshKeys, inputs.keys.clientPublicKey] : c.sshKeys,
    command: c.command,
    tmpSize: c.tmpSize,
    healthPort: c.healthPort,
    token: inputs.token,
    instanceId: inputs.instanceId,
    ...(inputs.guest ? { guest: inputs.guest } : {}),
    ...(inputs.keys
      ? { sshHostKey: { privateKey: inputs.keys.hostPrivateKey, publicKey: inputs.keys.hostPublicKey } }
      : {}),
  });
  return {
    specHash,
    imagePath,
    domainXml,
    userData,
    metaData: buildMetaData({ name: inputs.name, instanceId: inputs.instanceId }),
  };
}

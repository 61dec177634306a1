// virsh: argv builders (pure) and thin runner calls for the VM lifecycle, each taking the connect
// URI (qemu:///system, or qemu+ssh://… for a remote host). Parsers live in virsh-parse.ts and virsh-caps.ts.
import { NotFoundError } from "../errors.js";
import type { Runner } from "./runner.js";
import { isDomainMissing, isLibvirtUnreachable, isNotRunning, virshError } from "./virsh-errors.js";
import {
  parseCapabilities,
  parseDomCapabilities,
  type DomainCapabilities,
  type HostCapabilities,
} from "./virsh-caps.js";
import * as p from "./virsh-parse.js";

export * from "./virsh-parse.js";
export * from "./virsh-caps.js";
export * from "./virsh-errors.js";

/** Timeout of one virsh call; define/start take tens of ms here, a re-probing libvirtd far longer. */
const VIRSH_TIMEOUT_MS = 180_000;

export const versionArgv = (uri: string) => ["-c", uri, "version", "--daemon"];
export const capabilitiesArgv = (uri: string) => ["-c", uri, "capabilities"];
export const domCapabilitiesArgv = (uri: string, virtType: string, arch = "x86_64", machine = "q35") => [
  ...["-c", uri, "domcapabilities"],
  ...["--virttype", virtType, "--arch", arch, "--machine", machine],
];
export const defineArgv = (uri: string, xmlFile: string) => ["-c", uri, "define", "--file", xmlFile];
export const startArgv = (uri: string, name: string) => ["-c", uri, "start", "--domain", name];
export const shutdownArgv = (uri: string, name: string) => ["-c", uri, "shutdown", "--domain", name];
export const destroyArgv = (uri: string, name: string) => ["-c", uri, "destroy", "--domain", name];
/** Also drops managed-save images and snapshot/checkpoint metadata, which would otherwise block undefine. */
export const undefineArgv = (uri: string, name: string) => [
  ...["-c", uri, "undefine", "--domain", name],
  ...["--managed-save", "--snapshots-metadata", "--checkpoints-metadata"],
];
export const domStateArgv = (uri: string, name: string) => [
  "-c",
  uri,
  "domstate",
  "--domain",
  name,
  "--reason",
];
export const dumpXmlArgv = (uri: string, name: string) => ["-c", uri, "dumpxml", "--domain", name];
export const domInfoArgv = (uri: string, name: string) => ["-c", uri, "dominfo", "--domain", name];
export const domIfAddrArgv = (uri: string, name: string, source: "lease" | "agent" | "arp") => [
  ...["-c", uri, "domifaddr", "--domain", name, "--source", source],
];
export const listNamesArgv = (uri: string) => ["-c", uri, "list", "--all", "--name"];
export const listArgv = (uri: string) => ["-c", uri, "list", "--all"];
export const netInfoArgv = (uri: string, network: string) => ["-c", uri, "net-info", "--network", network];

async function virsh(run: Runner, argv: string[], domain?: string): Promise<string> {
  const r = await run("virsh", argv, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode !== 0) throw virshError(argv, r, domain);
  return r.stdout;
}

/** libvirt library, daemon and hypervisor versions; throws ToolError with a hint when libvirtd is down. */
export const getVersion = async (run: Runner, uri: string) =>
  p.parseVersion(await virsh(run, versionArgv(uri)));

export interface LibvirtVersion {
  /** The daemon's version (the library's when the daemon does not say) as libvirt's number: 9.0.0 → 9000000. */
  libvirt: number;
  libvirtText: string;
  /** e.g. "QEMU 7.2.22"; undefined when no hypervisor answered. */
  hypervisorText?: string;
}

/** The libvirt version that decides features (e.g. <readonly/> on virtiofs from 11.0): the daemon's. */
export async function getLibvirtVersion(run: Runner, uri: string): Promise<LibvirtVersion> {
  const v = await getVersion(run, uri);
  const text = v.daemon ?? v.library;
  const hv = v.hypervisor;
  return {
    libvirt: p.versionNumber(text),
    libvirtText: text,
    ...(hv ? { hypervisorText: `${hv.name} ${hv.version}` } : {}),
  };
}

export const getCapabilities = async (run: Runner, uri: string): Promise<HostCapabilities> =>
  parseCapabilities(await virsh(run, capabilitiesArgv(uri)));

export const getDomCapabilities = async (
  run: Runner,
  uri: string,
  virtType: string,
): Promise<DomainCapabilities> => parseDomCapabilities(await virsh(run, domCapabilitiesArgv(uri, virtType)));

/** Defines (or redefines) a domain from an XML file. */
export async function defineDomain(run: Runner, uri: string, xmlFile: string): Promise<void> {
  await virsh(run, defineArgv(uri, xmlFile));
}

/** Starts a defined domain; NotFoundError when it is not defined, ToolError when it is already running. */
export async function startDomain(run: Runner, uri: string, name: string): Promise<void> {
  await virsh(run, startArgv(uri, name), name);
}

/** Asks the guest to shut down (ACPI); returns at once. A guest without an ACPI handler ignores it. */
export async function shutdownDomain(run: Runner, uri: string, name: string): Promise<void> {
  await virsh(run, shutdownArgv(uri, name), name);
}

/** Powers the domain off at once. Idempotent: false when it was not running. */
export async function destroyDomain(run: Runner, uri: string, name: string): Promise<boolean> {
  const argv = destroyArgv(uri, name);
  const r = await run("virsh", argv, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode === 0) return true;
  if (isNotRunning(r.stderr)) return false;
  throw virshError(argv, r, name);
}

/** Removes the domain's definition (not its files). Idempotent: false when it did not exist. */
export async function undefineDomain(run: Runner, uri: string, name: string): Promise<boolean> {
  const argv = undefineArgv(uri, name);
  const r = await run("virsh", argv, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode === 0) return true;
  if (isDomainMissing(r.stderr) && !isLibvirtUnreachable(r.stderr)) return false;
  throw virshError(argv, r, name);
}

/** State and reason ("shut off", "destroyed"), or undefined when the domain is not defined. */
export async function getDomStateReason(
  run: Runner,
  uri: string,
  name: string,
): Promise<p.DomainState | undefined> {
  try {
    return p.parseDomState(await virsh(run, domStateArgv(uri, name), name));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The domain's state ("running", "shut off", …), or undefined when it is not defined. */
export const getDomState = async (
  run: Runner,
  uri: string,
  name: string,
): Promise<p.DomainStateName | undefined> => (await getDomStateReason(run, uri, name))?.state;

/** The domain's XML as libvirt holds it; NotFoundError when it is not defined. */
export const dumpDomainXml = (run: Runner, uri: string, name: string): Promise<string> =>
  virsh(run, dumpXmlArgv(uri, name), name);

export const getDomInfo = async (run: Runner, uri: string, name: string) =>
  p.parseDomInfo(await virsh(run, domInfoArgv(uri, name), name));

/**
 * The guest's addresses from the DHCP lease (the `default` network) or the guest agent.
 * [] while the guest has none yet or is not running; ToolError when the source is unavailable.
 */
export async function getDomIfAddr(
  run: Runner,
  uri: string,
  name: string,
  source: "lease" | "agent" = "lease",
): Promise<p.InterfaceAddress[]> {
  const argv = domIfAddrArgv(uri, name, source);
  const r = await run("virsh", argv, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode === 0) return p.parseDomIfAddr(r.stdout);
  if (isNotRunning(r.stderr)) return [];
  throw virshError(argv, r, name);
}

/** The guest's IPv4 addresses (lease by default); [] while it has none or is not running. */
export const getDomAddresses = async (
  run: Runner,
  uri: string,
  name: string,
  source: "lease" | "agent" = "lease",
) => (await getDomIfAddr(run, uri, name, source)).filter((a) => a.protocol === "ipv4").map((a) => a.address);

/** Names of every domain, running or not. */
export const listDomainNames = async (run: Runner, uri: string) =>
  p.parseListNames(await virsh(run, listNamesArgv(uri)));

/** Every domain with its id (when running) and state. */
export const listDomains = async (run: Runner, uri: string) => p.parseList(await virsh(run, listArgv(uri)));

/** A libvirt network's state; undefined when it is not defined. */
export async function getNetInfo(
  run: Runner,
  uri: string,
  network: string,
): Promise<p.NetworkInfo | undefined> {
  const argv = netInfoArgv(uri, network);
  const r = await run("virsh", argv, { timeoutMs: VIRSH_TIMEOUT_MS });
  if (r.exitCode === 0) return p.parseNetInfo(r.stdout);
  if (/failed to get network|Network not found/i.test(r.stderr) && !isLibvirtUnreachable(r.stderr))
    return undefined;
  throw virshError(argv, r);
}

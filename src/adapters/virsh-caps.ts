// Parsers of `virsh capabilities` and `virsh domcapabilities` XML: what doctor and provision need
// to know (which domain types exist, memfd backing, the virtiofs driver). Pure.
import { XMLParser } from "fast-xml-parser";
import { InternalError } from "../errors.js";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["guest", "domain", "enum", "value", "machine"].includes(name),
});

type Node = Record<string, unknown>;
const asArray = (v: unknown): Node[] =>
  Array.isArray(v) ? (v as Node[]) : v === undefined ? [] : [v as Node];
const text = (v: unknown): string =>
  typeof v === "string" ? v : String((v as Node | undefined)?.["#text"] ?? "");

function parseXml(xml: string, root: string, what: string): Node {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (err) {
    throw new InternalError(`cannot parse \`virsh ${what}\` XML`, { cause: err });
  }
  const node = doc[root];
  if (!node || typeof node !== "object")
    throw new InternalError(`\`virsh ${what}\` printed no <${root}> element`);
  return node as Node;
}

export interface HostCapabilities {
  hostArch: string;
  /** Domain types the host offers for hvm guests of `hostArch` ("qemu", "kvm"). */
  domainTypes: string[];
  /** Machine types for that arch, names and aliases ("pc-q35-7.2", "q35", …). */
  machines: string[];
}

/** Parses `virsh capabilities`. */
export function parseCapabilities(xml: string): HostCapabilities {
  const caps = parseXml(xml, "capabilities", "capabilities");
  const host = (caps.host ?? {}) as Node;
  const hostArch = text((host.cpu as Node | undefined)?.arch);
  const domainTypes = new Set<string>();
  const machines = new Set<string>();
  for (const guest of asArray(caps.guest)) {
    const arch = guest.arch as Node | undefined;
    if (text(guest.os_type) !== "hvm" || arch?.["@name"] !== hostArch) continue;
    for (const d of asArray(arch.domain)) domainTypes.add(String(d["@type"]));
    for (const m of asArray(arch.machine)) {
      machines.add(text(m));
      if (m["@canonical"]) machines.add(String(m["@canonical"]));
    }
  }
  return { hostArch, domainTypes: [...domainTypes], machines: [...machines] };
}

export interface DomainCapabilities {
  domainType: string;
  emulator: string;
  machine: string;
  arch: string;
  /** <memoryBacking> offers sourceType memfd (needed by virtiofs). */
  memfd: boolean;
  /** <filesystem> offers driverType virtiofs. */
  virtiofs: boolean;
}

/** The <value>s of the <enum name="…"> under `node`, or [] when it is absent or unsupported. */
function enumValues(node: unknown, name: string): string[] {
  const n = node as Node | undefined;
  if (!n || n["@supported"] === "no") return [];
  const e = asArray(n.enum).find((x) => x["@name"] === name);
  return asArray(e?.value).map(text);
}

/** Parses `virsh domcapabilities --virttype T --arch A --machine M`. */
export function parseDomCapabilities(xml: string): DomainCapabilities {
  const caps = parseXml(xml, "domainCapabilities", "domcapabilities");
  const devices = (caps.devices ?? {}) as Node;
  return {
    domainType: text(asArray(caps.domain)[0]),
    emulator: text(caps.path),
    machine: text(asArray(caps.machine)[0]),
    arch: text(caps.arch),
    memfd: enumValues(caps.memoryBacking, "sourceType").includes("memfd"),
    virtiofs: enumValues(devices.filesystem, "driverType").includes("virtiofs"),
  };
}

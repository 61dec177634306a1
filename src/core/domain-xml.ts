// Domain spec → libvirt domain XML. Pure and deterministic: ids and times come in the spec.
import { XMLBuilder } from "fast-xml-parser";
import { GLOBAL_TAG, INBOX_TAG } from "./paths.js";
import { escapeXml } from "./xml-text.js";

export const METADATA_NS = "https://agentshare.dev/xmlns/agent/1";

export interface DomainSpec {
  name: string;
  uuid: string;
  description: string;
  memoryMiB: number;
  vcpus: number;
  domainType: "kvm" | "qemu";
  /** qcow2 overlay; absent for direct kernel boot without a disk. */
  diskPath?: string;
  /** Direct kernel boot. */
  kernel?: { path: string; initrd?: string; cmdline: string };
  seedIso: string;
  globalDir: string;
  inboxDir: string;
  /** `<readonly/>` on the global share: only where libvirt accepts it (≥ 11.0). */
  readonlyGlobal: boolean;
  /** libvirt network name, or null for no network interface. */
  network: string | null;
  /**
   * Instead of a libvirt network: QEMU user-mode networking, isolated (`restrict=on`: the guest
   * reaches nothing outside), with these guest ports forwarded to 127.0.0.1 on the host.
   */
  loopbackForward?: ReadonlyArray<{ hostPort: number; guestPort: number }>;
  consoleLog: string;
  /** MiB of TCG translation cache: rendered for domain type qemu only (KVM translates nothing). */
  tcgCacheMiB?: number;
  /** virtio balloon with free page reporting: pages the guest frees go back to the host. */
  freePageReporting?: boolean;
  metadata: { specHash: string; createdAt: string; command: string; instanceId: string };
}

// Values are escaped by escapeXml before they reach the builder, which is told not to touch entities.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  textNodeName: "#text",
  format: true,
  indentBy: "  ",
  processEntities: false,
  suppressEmptyNode: true,
});

const t = (s: string | number) => escapeXml(String(s));

function filesystem(source: string, tag: string, readonly: boolean) {
  return {
    "@type": "mount",
    "@accessmode": "passthrough",
    driver: { "@type": "virtiofs" },
    source: { "@dir": t(source) },
    target: { "@dir": tag },
    ...(readonly ? { readonly: "" } : {}),
  };
}

function osElement(spec: DomainSpec) {
  const os: Record<string, unknown> = { type: { "@arch": "x86_64", "@machine": "q35", "#text": "hvm" } };
  if (spec.kernel) {
    os.kernel = t(spec.kernel.path);
    if (spec.kernel.initrd) os.initrd = t(spec.kernel.initrd);
    os.cmdline = t(spec.kernel.cmdline);
  } else {
    os.boot = { "@dev": "hd" };
  }
  return os;
}

function disks(spec: DomainSpec) {
  const list: unknown[] = [];
  if (spec.diskPath)
    list.push({
      "@type": "file",
      "@device": "disk",
      driver: { "@name": "qemu", "@type": "qcow2", "@discard": "unmap" },
      source: { "@file": t(spec.diskPath) },
      target: { "@dev": "vda", "@bus": "virtio" },
    });
  // The seed is a read-only virtio disk, not a SATA cdrom: Debian's cloud kernel has no AHCI
  // driver, and cloud-init's NoCloud finds the `cidata` label on any block device.
  list.push({
    "@type": "file",
    "@device": "disk",
    driver: { "@name": "qemu", "@type": "raw" },
    source: { "@file": t(spec.seedIso) },
    target: { "@dev": spec.diskPath ? "vdb" : "vda", "@bus": "virtio" },
    readonly: "",
  });
  return list;
}

/** `<acpi/>`, and under TCG the translation cache size (libvirt ≥ 8.0; QEMU's default is 1 GiB). */
function features(spec: DomainSpec) {
  const tcg =
    spec.domainType === "qemu" && spec.tcgCacheMiB !== undefined
      ? { tcg: { "tb-cache": { "@unit": "MiB", "#text": spec.tcgCacheMiB } } }
      : {};
  return { acpi: "", ...tcg };
}

export const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

/**
 * libvirt 9.0 has no port forwarding for `<interface type='user'>` (that needs passt): the netdev
 * goes to QEMU directly. Its NIC needs a fixed slot libvirt leaves free on q35's pcie.0: QEMU
 * sees these arguments before libvirt's devices (slot 1 and up: root ports; 0x1f: ICH9).
 */
function loopbackNetArgs(fwd: NonNullable<DomainSpec["loopbackForward"]>): string[] {
  const rules = fwd.map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`);
  return [
    "-netdev",
    ["user", "id=asnet0", "restrict=on", ...rules].join(","),
    "-device",
    "virtio-net-pci,netdev=asnet0,bus=pcie.0,addr=0x1e",
  ];
}

/** Builds the domain XML: memfd shared memory, two virtiofs shares, seed disk, serial console logged to a file. */
export function buildDomainXml(spec: DomainSpec): string {
  const m = spec.metadata;
  const devices: Record<string, unknown> = {
    disk: disks(spec),
    filesystem: [
      filesystem(spec.globalDir, GLOBAL_TAG, spec.readonlyGlobal),
      filesystem(spec.inboxDir, INBOX_TAG, false),
    ],
    ...(spec.network && !spec.loopbackForward
      ? {
          interface: {
            "@type": "network",
            source: { "@network": t(spec.network) },
            model: { "@type": "virtio" },
          },
        }
      : {}),
    serial: {
      "@type": "pty",
      log: { "@file": t(spec.consoleLog), "@append": "on" },
      target: { "@port": "0" },
    },
    console: { "@type": "pty", target: { "@type": "serial", "@port": "0" } },
    rng: { "@model": "virtio", backend: { "@model": "random", "#text": "/dev/urandom" } },
    // libvirt adds this balloon anyway; written out only to turn free page reporting on
    ...(spec.freePageReporting ? { memballoon: { "@model": "virtio", "@freePageReporting": "on" } } : {}),
  };
  const domain = {
    "@type": spec.domainType,
    ...(spec.loopbackForward ? { "@xmlns:qemu": QEMU_NS } : {}),
    name: t(spec.name),
    uuid: t(spec.uuid),
    ...(spec.description ? { description: t(spec.description) } : {}),
    metadata: {
      "agentshare:agent": {
        "@xmlns:agentshare": METADATA_NS,
        "agentshare:name": t(spec.name),
        "agentshare:specHash": t(m.specHash),
        "agentshare:createdAt": t(m.createdAt),
        "agentshare:instanceId": t(m.instanceId),
        "agentshare:command": t(m.command),
      },
    },
    memory: { "@unit": "MiB", "#text": spec.memoryMiB },
    vcpu: spec.vcpus,
    memoryBacking: { source: { "@type": "memfd" }, access: { "@mode": "shared" } },
    os: osElement(spec),
    features: features(spec),
    on_poweroff: "destroy",
    on_reboot: "restart",
    on_crash: "destroy",
    devices,
    ...(spec.loopbackForward
      ? {
          "qemu:commandline": {
            "qemu:arg": loopbackNetArgs(spec.loopbackForward).map((v) => ({ "@value": v })),
          },
        }
      : {}),
  };
  return builder.build({ domain }) as string;
}

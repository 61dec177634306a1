// From provision's plan to the KubeVirt objects: the same resolved config and the same user-data
// bytes (planAgent's), plus what only a cluster needs (namespace, disk source, claims, Service).
// Pure: checks the render options and the config against what KubeVirt can do, then builds.
import { ConfigError, UsageError } from "../errors.js";
import { kernelCmdline, type AgentPlan, type PlanInputs } from "./agent-plan.js";
import { buildKubevirtObjects, type GlobalSource, type KubeObject, type KubevirtSpec } from "./kubevirt.js";
import type { KubevirtOptions } from "./kubevirt-options.js";
import { parseSize } from "./units.js";

export type { KubevirtOptions };

/** Where the files of an image from `agentshare image build` sit in its container image. */
export const CONTAINER_KERNEL = "/boot/vmlinuz";
export const CONTAINER_INITRD = "/boot/initrd.img";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const ACCESS_MODES = ["ReadWriteMany", "ReadWriteOnce"] as const;
const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
const GLOBAL_SOURCES: Record<string, GlobalSource> = { claim: "claim", datavolume: "dataVolume" };

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} ${JSON.stringify(value)} must be one of ${allowed.join(", ")}`, {
    hint: `e.g. ${flag} ${allowed[0]}`,
  });
}

function dnsName(flag: string, value: string, rule: RegExp, what: string): string {
  if (rule.test(value)) return value;
  throw new UsageError(`${flag} ${JSON.stringify(value)} is not a Kubernetes ${what}`, {
    hint: "lowercase letters, digits and '-', starting and ending with a letter or digit, e.g. agents",
  });
}

function sizeOf(flag: string, value: string): number {
  const n = parseSize(value);
  if (n === undefined || n < 1024 * 1024)
    throw new UsageError(`${flag} ${JSON.stringify(value)} must be a size of at least 1M`, {
      hint: `e.g. ${flag} 10G`,
    });
  return n;
}

/** The boot disk: a containerDisk (default image `agentshare/IMAGE:latest`) or a DataVolume from a URL. */
function diskOf(inputs: PlanInputs, o: KubevirtOptions): KubevirtSpec["disk"] {
  const c = inputs.config;
  if (o.diskFrom === "datavolume") {
    if (!o.diskImage || !/^https?:\/\/[^\s]+$/.test(o.diskImage))
      throw new UsageError("--disk-from datavolume needs --disk-image URL: the http(s) URL CDI imports", {
        hint: "e.g. --disk-image https://images.example/debian-12.qcow2",
      });
    return { kind: "dataVolume", url: o.diskImage, size: parseSize(c.disk)! };
  }
  const image = o.diskImage ?? (c.image && !c.image.startsWith("/") ? `agentshare/${c.image}:latest` : "");
  if (!image)
    throw new UsageError(`image ${c.image} is a host path: KubeVirt needs a container image for it`, {
      hint: "pass --disk-image REGISTRY/IMAGE:TAG (a containerDisk: the qcow2 under /disk/, docs/kubevirt.md)",
    });
  if (/\s/.test(image) || image.length > 1024)
    throw new UsageError(`--disk-image ${JSON.stringify(image)} is not a container image reference`);
  return { kind: "containerDisk", image };
}

/** Config that has no KubeVirt equivalent: every problem at once, as the config pipeline does. */
function checkConfig(inputs: PlanInputs): void {
  const c = inputs.config;
  const problems: string[] = [];
  if (c.image === null)
    problems.push("image: null (kernel boot without a disk) cannot be rendered for KubeVirt");
  for (const field of ["kernel", "initrd"] as const)
    if (c[field]) problems.push(`${field}: a host file cannot be booted on KubeVirt; leave it unset`);
  if (problems.length) throw new ConfigError("this agent's config cannot run on KubeVirt", problems);
}

/** What enforces read-only global (docs/kubevirt.md); refuses where nothing outside the guest does. */
function globalOf(o: KubevirtOptions, warn: (s: string) => void): KubevirtSpec["global"]["source"] {
  const source = GLOBAL_SOURCES[oneOf("--global-source", o.globalSource, Object.keys(GLOBAL_SOURCES))];
  if (source === "dataVolume") {
    const why =
      "with --global-source datavolume nothing outside the guest keeps global read-only: KubeVirt's dataVolume volume has no readOnly, so the kubelet mounts it writable for virtiofsd and guest root can remount /mnt/global rw";
    if (!o.insecureGlobal)
      throw new ConfigError(why, [], {
        hint: "use --global-source claim (a persistentVolumeClaim volume with readOnly: true), or pass --insecure-global to accept an unprotected global",
      });
    warn(`${why} (--insecure-global)`);
  }
  return source!;
}

/** Checks the options and builds the objects for `inputs` (planned by planAgent into `plan`). */
export function planKubevirt(
  inputs: PlanInputs,
  plan: AgentPlan,
  /** The inbox's size (inboxQuota), for its claim. */
  inboxBytes: number,
  o: KubevirtOptions,
  warn: (s: string) => void = () => undefined,
): { spec: KubevirtSpec; objects: KubeObject[] } {
  const namespace = dnsName("--namespace", o.namespace, DNS_LABEL, "namespace name (RFC 1123 label)");
  const globalClaim = dnsName("--global-claim", o.globalClaim, DNS_SUBDOMAIN, "object name");
  if (o.storageClass !== undefined)
    dnsName("--storage-class", o.storageClass, DNS_SUBDOMAIN, "storage class name");
  const inboxAccessMode = oneOf("--inbox-access-mode", o.inboxAccessMode, ACCESS_MODES);
  const serviceType = oneOf("--service-type", o.serviceType, SERVICE_TYPES);
  const diskFrom = oneOf("--disk-from", o.diskFrom, ["containerdisk", "datavolume"] as const);
  const globalSize = sizeOf("--global-size", o.globalSize);
  checkConfig(inputs);
  const source = globalOf(o, warn);
  const disk = diskOf(inputs, { ...o, diskFrom });
  const c = inputs.config;
  const ik = inputs.imageKernel;
  const spec: KubevirtSpec = {
    name: inputs.name,
    namespace,
    memoryMiB: c.memory,
    vcpus: c.vcpus,
    description: c.description,
    disk,
    userData: plan.userData,
    healthPort: c.healthPort,
    inbox: {
      sizeBytes: inboxBytes,
      accessMode: inboxAccessMode,
      ...(o.storageClass ? { storageClass: o.storageClass } : {}),
    },
    global: {
      claim: globalClaim,
      sizeBytes: globalSize,
      source,
      ...(o.storageClass ? { storageClass: o.storageClass } : {}),
    },
    serviceType,
    specHash: plan.specHash,
    // an image built by `agentshare image build` has no bootloader: boot its kernel, from the same container image
    ...(ik && disk.kind === "containerDisk"
      ? {
          kernelBoot: {
            image: disk.image,
            kernelPath: CONTAINER_KERNEL,
            initrdPath: CONTAINER_INITRD,
            kernelArgs: kernelCmdline(inputs, ik.cmdline),
          },
        }
      : {}),
  };
  return { spec, objects: buildKubevirtObjects(spec) };
}

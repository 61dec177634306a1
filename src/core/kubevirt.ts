// An agent as Kubernetes objects for KubeVirt: a VirtualMachine (kubevirt.io/v1), the Secret with
// its cloud-init user-data, its inbox claim, the shared global claim and a Service. Pure and
// deterministic: the user-data comes in already built (the same bytes provision puts on the seed
// ISO), so the objects depend only on the spec. Why global is read-only: docs/kubevirt.md.
import { GLOBAL_TAG, INBOX_TAG } from "./paths.js";

/** A Kubernetes object as `kubectl apply` reads it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export type DiskSource =
  /** A container image holding the qcow2 under /disk (KubeVirt's containerDisk format). */
  | { kind: "containerDisk"; image: string }
  /** A DataVolume that CDI imports from an http(s) URL into a claim of `size` bytes. */
  | { kind: "dataVolume"; url: string; size: number };

/**
 * How the shared global claim reaches the VM. `claim`: a persistentVolumeClaim volume with
 * `readOnly: true`, which KubeVirt copies into the virt-launcher pod, so the kubelet mounts it
 * read-only for the virtiofsd container (enforced outside the guest). `dataVolume`: KubeVirt's
 * dataVolume volume has no readOnly and the pod volume it renders is writable: not enforced.
 */
export type GlobalSource = "claim" | "dataVolume";

export interface KubevirtSpec {
  name: string;
  namespace: string;
  memoryMiB: number;
  vcpus: number;
  description: string;
  disk: DiskSource;
  /** #cloud-config user-data, exactly as buildUserData made it. */
  userData: string;
  healthPort: number;
  inbox: { sizeBytes: number; accessMode: "ReadWriteMany" | "ReadWriteOnce"; storageClass?: string };
  global: { claim: string; sizeBytes: number; source: GlobalSource; storageClass?: string };
  serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
  /** The agentshare spec hash (an annotation): two renders of the same spec carry the same one. */
  specHash: string;
  /** Direct kernel boot from files in the disk's container image (images from `agentshare image build`). */
  kernelBoot?: { image: string; kernelPath: string; initrdPath: string; kernelArgs: string };
}

/** The label every object of one agent carries; the Service selects the VM's pod by it. */
export const AGENT_LABEL = "agentshare.io/agent";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Bytes → a Kubernetes quantity: whole GiB as "NGi", else MiB rounded up ("NMi"). */
export function kubeQuantity(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB}Gi`;
  return `${Math.ceil(bytes / MIB)}Mi`;
}

/** The names of the objects one agent gets (all within its namespace). */
export function kubeNames(name: string) {
  return {
    vm: name,
    secret: `${name}-cloudinit`,
    inboxClaim: `${name}-inbox`,
    diskVolume: `${name}-disk`,
    service: name,
  };
}

const labelsOf = (name: string) => ({ "app.kubernetes.io/managed-by": "agentshare", [AGENT_LABEL]: name });

function meta(spec: KubevirtSpec, name: string, agentLabel = true) {
  return {
    name,
    namespace: spec.namespace,
    labels: agentLabel ? labelsOf(spec.name) : { "app.kubernetes.io/managed-by": "agentshare" },
  };
}

function claim(
  spec: KubevirtSpec,
  name: string,
  accessMode: string,
  sizeBytes: number,
  storageClass: string | undefined,
  agentLabel: boolean,
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: meta(spec, name, agentLabel),
    spec: {
      accessModes: [accessMode],
      // virtiofs shares a directory: the claim must be a file system, not a block device
      volumeMode: "Filesystem",
      resources: { requests: { storage: kubeQuantity(sizeBytes) } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  };
}

function diskVolume(spec: KubevirtSpec) {
  const n = kubeNames(spec.name);
  if (spec.disk.kind === "containerDisk")
    return { volume: { name: "rootdisk", containerDisk: { image: spec.disk.image } }, templates: [] };
  return {
    volume: { name: "rootdisk", dataVolume: { name: n.diskVolume } },
    templates: [
      {
        metadata: { name: n.diskVolume, labels: labelsOf(spec.name) },
        spec: {
          source: { http: { url: spec.disk.url } },
          storage: { resources: { requests: { storage: kubeQuantity(spec.disk.size) } } },
        },
      },
    ],
  };
}

function globalVolume(spec: KubevirtSpec) {
  if (spec.global.source === "claim")
    return { name: GLOBAL_TAG, persistentVolumeClaim: { claimName: spec.global.claim, readOnly: true } };
  return { name: GLOBAL_TAG, dataVolume: { name: spec.global.claim } };
}

function kernelBootOf(k: NonNullable<KubevirtSpec["kernelBoot"]>) {
  return {
    kernelArgs: k.kernelArgs,
    container: { image: k.image, kernelPath: k.kernelPath, initrdPath: k.initrdPath },
  };
}

function virtualMachine(spec: KubevirtSpec): KubeObject {
  const n = kubeNames(spec.name);
  const disk = diskVolume(spec);
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: {
      ...meta(spec, n.vm),
      annotations: {
        "agentshare.io/spec-hash": spec.specHash,
        ...(spec.description ? { "agentshare.io/description": spec.description } : {}),
      },
    },
    spec: {
      runStrategy: "Always",
      ...(disk.templates.length ? { dataVolumeTemplates: disk.templates } : {}),
      template: {
        metadata: { labels: labelsOf(spec.name) },
        spec: {
          domain: {
            cpu: { sockets: 1, cores: spec.vcpus, threads: 1 },
            memory: { guest: `${spec.memoryMiB}Mi` },
            ...(spec.kernelBoot ? { firmware: { kernelBoot: kernelBootOf(spec.kernelBoot) } } : {}),
            devices: {
              disks: [
                { name: "rootdisk", disk: { bus: "virtio" } },
                { name: "cloudinit", disk: { bus: "virtio" } },
              ],
              // The virtiofs tag is the filesystem's name: the same tags the libvirt guest mounts.
              filesystems: [
                { name: GLOBAL_TAG, virtiofs: {} },
                { name: INBOX_TAG, virtiofs: {} },
              ],
              interfaces: [{ name: "default", masquerade: {} }],
              rng: {},
            },
          },
          networks: [{ name: "default", pod: {} }],
          volumes: [
            disk.volume,
            { name: "cloudinit", cloudInitNoCloud: { secretRef: { name: n.secret } } },
            globalVolume(spec),
            { name: INBOX_TAG, persistentVolumeClaim: { claimName: n.inboxClaim } },
          ],
        },
      },
    },
  };
}

/** Builds the objects in the order `kubectl apply` should create them. */
export function buildKubevirtObjects(spec: KubevirtSpec): KubeObject[] {
  const n = kubeNames(spec.name);
  return [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(spec, n.secret),
      type: "Opaque",
      // base64 of the exact bytes: KubeVirt reads the key `userdata` (or `userData`)
      data: { userdata: Buffer.from(spec.userData, "utf8").toString("base64") },
    },
    claim(spec, n.inboxClaim, spec.inbox.accessMode, spec.inbox.sizeBytes, spec.inbox.storageClass, true),
    // Shared by every agent of the namespace: the same object from every render, so applying it again changes nothing.
    claim(spec, spec.global.claim, "ReadWriteMany", spec.global.sizeBytes, spec.global.storageClass, false),
    virtualMachine(spec),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(spec, n.service),
      spec: {
        type: spec.serviceType,
        selector: { [AGENT_LABEL]: spec.name },
        ports: [
          { name: "health", protocol: "TCP", port: spec.healthPort, targetPort: spec.healthPort },
          { name: "ssh", protocol: "TCP", port: 22, targetPort: 22 },
        ],
      },
    },
  ];
}

/** A list `kubectl apply -f -` takes as one document (what --json prints). */
export const kubeList = (items: KubeObject[]) => ({ apiVersion: "v1", kind: "List", items });

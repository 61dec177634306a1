// render kubevirt's pure half: provision's plan → KubeVirt objects. Golden files for the default
// profile; every object against KubeVirt's published OpenAPI schema (ajv) or, for the core kinds,
// Kubernetes' own (kubernetes-models); the Secret carries planAgent's user-data byte for byte;
// read-only global and the refusals. Each validator is also shown a broken object it must reject.
import { describe, expect, it } from "vitest";
import { planAgent, type PlanInputs } from "../../src/core/agent-plan.js";
import { BUILTIN_CONFIG } from "../../src/core/config.js";
import { planKubevirt } from "../../src/core/kubevirt-plan.js";
import { DEFAULT_KUBEVIRT_OPTIONS, type KubevirtOptions } from "../../src/core/kubevirt-options.js";
import type { KubeObject } from "../../src/core/kubevirt.js";
import { agentPaths, hostPaths } from "../../src/core/paths.js";
import { ConfigError, UsageError } from "../../src/errors.js";
import { kubeYaml } from "../../src/ops/render.js";
import { expectGolden } from "../helpers/golden.js";
import {
  haveKubevirtSchema,
  KUBEVIRT_SWAGGER,
  kubevirtProblems,
  validateCoreObject,
} from "../helpers/kube-schemas.js";

const host = hostPaths("/srv/agentshare", "/var/lib/agentshare");

/** The default profile's agent-01 with fixed per-provision values (as the libvirt goldens have). */
const inputs: PlanInputs = {
  name: "agent-01",
  config: { ...BUILTIN_CONFIG.agent },
  host,
  agent: agentPaths(host, "agent-01"),
  domainType: "qemu",
  readonlyVirtiofs: false,
  instanceId: "iid-agent-01-1",
  uuid: "6b8a4c7e-1d2f-4a3b-9c8d-0e1f2a3b4c5d",
  token: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  createdAt: "2026-11-22T06:00:00.000Z",
  guest: {
    runWrapper: "#!/usr/bin/python3 -I\nprint('wrapper')\n",
    healthServer: "#!/usr/bin/env node\nconsole.log('server');\n",
  },
  keys: {
    hostPrivateKey:
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    hostPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost agent-01",
    clientPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOp agentshare@host-for-agent-01",
  },
  // the default image, debian-12, comes from `agentshare image build`: it boots its own kernel
  imageKernel: {
    path: "/var/lib/agentshare/images/debian-12.vmlinuz",
    initrd: "/var/lib/agentshare/images/debian-12.initrd.img",
    cmdline: "root=/dev/vda rw console=ttyS0",
  },
};
const TEN_GIB = 10 * 1024 ** 3;

const render = (o: Partial<KubevirtOptions> = {}, i: PlanInputs = inputs, warn?: (s: string) => void) =>
  planKubevirt(i, planAgent(i), TEN_GIB, { ...DEFAULT_KUBEVIRT_OPTIONS, ...o }, warn).objects;

const byKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);
const vmOf = (objs: KubeObject[]) => byKind(objs, "VirtualMachine")[0] as any;
const userDataOf = (objs: KubeObject[]) =>
  Buffer.from((byKind(objs, "Secret")[0] as any).data.userdata, "base64").toString("utf8");

describe("the default profile", () => {
  it("matches the golden YAML stream and its user-data", () => {
    const objs = render();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Secret/agent-01-cloudinit",
      "PersistentVolumeClaim/agent-01-inbox",
      "PersistentVolumeClaim/agentshare-global",
      "VirtualMachine/agent-01",
      "Service/agent-01",
    ]);
    expectGolden("kubevirt-default.yaml", kubeYaml(objs));
    // also a *.user-data golden, so the tools tier runs `cloud-init schema` on it
    expectGolden("kubevirt-default.user-data", userDataOf(objs));
  });

  it("the Secret carries provision's user-data byte for byte (nothing differs by design in it)", () => {
    // The same bytes as the seed ISO: the virtiofs tags are the same (KubeVirt's tag is the
    // filesystem's name, and the names are agentglobal/agentinbox), the per-provision values come
    // from the same PlanInputs. What does differ by design lives outside user-data: meta-data is
    // KubeVirt's own (instance id from the VMI, hostname from its name), see the CLI test.
    expect(userDataOf(render())).toBe(planAgent(inputs).userData);
    const other = { ...inputs, config: { ...inputs.config, command: "python3 x.py", uid: 2001, gid: 3001 } };
    expect(userDataOf(render({}, other))).toBe(planAgent(other).userData);
  });

  it("maps the profile: CPU, memory, inbox size, health port, kernel boot of the built image", () => {
    const vm = vmOf(render());
    const dom = vm.spec.template.spec.domain;
    expect(dom.cpu.cores).toBe(2);
    expect(dom.memory.guest).toBe("1024Mi");
    expect(dom.firmware.kernelBoot.kernelArgs).toBe(
      "root=/dev/vda rw console=ttyS0 agentshare.instance=iid-agent-01-1 agentshare.uid=1000 agentshare.gid=1000",
    );
    const big = vmOf(render({}, { ...inputs, config: { ...inputs.config, memory: 4096, vcpus: 4 } }));
    expect(big.spec.template.spec.domain.memory.guest).toBe("4096Mi");
    expect(big.spec.template.spec.domain.cpu.cores).toBe(4);
    const svc = byKind(render(), "Service")[0] as any;
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.ports.map((p: any) => p.port)).toEqual([8118, 22]);
  });
});

describe("read-only global", () => {
  it("is a persistentVolumeClaim volume with readOnly: true, on the tag the guest mounts ro", () => {
    const spec = vmOf(render()).spec.template.spec;
    const vol = spec.volumes.find((v: any) => v.name === "agentglobal");
    expect(vol).toEqual({
      name: "agentglobal",
      persistentVolumeClaim: { claimName: "agentshare-global", readOnly: true },
    });
    expect(spec.domain.devices.filesystems.map((f: any) => f.name)).toEqual(["agentglobal", "agentinbox"]);
    expect(userDataOf(render())).toContain(
      "- agentglobal\n    - /mnt/global\n    - virtiofs\n    - ro,nofail",
    );
  });

  it("a dataVolume global, which nothing keeps read-only, is refused (78) without --insecure-global", () => {
    const e = (() => {
      try {
        render({ globalSource: "datavolume" });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(78);
    expect((e as Error).message).toContain("nothing outside the guest keeps global read-only");
    expect((e as ConfigError).hint).toContain("--insecure-global");
    const warnings: string[] = [];
    const vol = vmOf(
      render({ globalSource: "datavolume", insecureGlobal: true }, inputs, (s) => warnings.push(s)),
    ).spec.template.spec.volumes.find((v: any) => v.name === "agentglobal");
    expect(vol).toEqual({ name: "agentglobal", dataVolume: { name: "agentshare-global" } });
    expect(warnings.join("\n")).toContain("--insecure-global");
  });
});

describe("bad input: UsageError (64) naming the flag, ConfigError (78) for config KubeVirt cannot run", () => {
  it.each([
    [{ namespace: "Agents" }, '--namespace "Agents" is not a Kubernetes namespace name'],
    [{ namespace: "a".repeat(64) }, "--namespace"],
    [{ globalClaim: "-x" }, '--global-claim "-x"'],
    [
      { inboxAccessMode: "ReadOnlyMany" },
      '--inbox-access-mode "ReadOnlyMany" must be one of ReadWriteMany, ReadWriteOnce',
    ],
    [{ serviceType: "ExternalName" }, '--service-type "ExternalName" must be one of'],
    [{ globalSource: "nfs" }, '--global-source "nfs" must be one of claim, datavolume'],
    [{ globalSize: "lots" }, '--global-size "lots" must be a size'],
    [{ diskFrom: "datavolume" as const }, "--disk-from datavolume needs --disk-image URL"],
    [{ diskFrom: "datavolume" as const, diskImage: "ftp://x/y" }, "needs --disk-image URL"],
  ])("%j", (o, text) => {
    expect(() => render(o)).toThrow(UsageError);
    expect(() => render(o)).toThrow(text);
  });

  it("image: null and a host kernel: every problem at once (78)", () => {
    const i = { ...inputs, config: { ...inputs.config, image: null, kernel: "/boot/vmlinuz" } };
    let err: unknown;
    try {
      render({}, i);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(2);
  });

  it("an image given as a host path needs --disk-image", () => {
    const i = {
      ...inputs,
      config: { ...inputs.config, image: "/srv/images/x.qcow2" },
      imageKernel: undefined,
    };
    expect(() => render({}, i)).toThrow("is a host path: KubeVirt needs a container image for it");
    const vm = vmOf(render({ diskImage: "registry.example/agents/x:1" }, i));
    expect(vm.spec.template.spec.volumes[0]).toEqual({
      name: "rootdisk",
      containerDisk: { image: "registry.example/agents/x:1" },
    });
    expect(vm.spec.template.spec.domain.firmware).toBeUndefined();
  });
});

const variants: Array<[string, KubeObject[]]> = [
  ["default", render()],
  [
    "datavolume disk, RWO inbox, storage class, NodePort",
    render({
      diskFrom: "datavolume",
      diskImage: "https://images.example/debian-12.qcow2",
      inboxAccessMode: "ReadWriteOnce",
      storageClass: "cephfs",
      serviceType: "NodePort",
      namespace: "agents",
    }),
  ],
  ["insecure dataVolume global", render({ globalSource: "datavolume", insecureGlobal: true })],
];

describe.skipIf(!haveKubevirtSchema() && !process.env.CI)(`schemas (${KUBEVIRT_SWAGGER})`, () => {
  it.each(variants)("%s: the VirtualMachine validates against KubeVirt's swagger", (_n, objs) => {
    expect(kubevirtProblems(vmOf(objs))).toEqual([]);
  });

  it.each(variants)("%s: Secret, claims and Service validate with kubernetes-models", (_n, objs) => {
    const core = objs.filter((o) => o.kind !== "VirtualMachine");
    expect(core).toHaveLength(4);
    for (const o of core) validateCoreObject(o);
  });

  it("the KubeVirt check can fail: a misspelt field, a wrong type, a missing required field", () => {
    const vm = vmOf(render());
    const broken = structuredClone(vm);
    const pvc = broken.spec.template.spec.volumes[2].persistentVolumeClaim;
    delete pvc.readOnly;
    pvc.readonly = true; // misspelt: a cluster would ignore it (or refuse it, strict) and mount global writable
    expect(kubevirtProblems(broken).join("\n")).toMatch(/additional/);
    const typed = structuredClone(vm);
    typed.spec.template.spec.domain.cpu.cores = "two";
    expect(kubevirtProblems(typed).join("\n")).toMatch(/cores must be integer/);
    const unnamed = structuredClone(vm);
    delete unnamed.spec.template.spec.volumes[3].persistentVolumeClaim.claimName;
    expect(kubevirtProblems(unnamed).join("\n")).toMatch(/claimName/);
  });

  it("the core check can fail: a port that is not a number, user-data that is not a string", () => {
    const [secret, , , , svc] = render() as any[];
    expect(() => validateCoreObject({ ...svc, spec: { ...svc.spec, ports: [{ port: "health" }] } })).toThrow(
      /port/,
    );
    expect(() => validateCoreObject({ ...secret, data: { userdata: 42 } })).toThrow(/userdata/);
  });
});

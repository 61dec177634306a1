// `agentshare render kubevirt` through the built CLI: the Secret's user-data against what
// `provision --dry-run` writes for the same agent, bad input refused as provision refuses it
// (same exit code, same message), --json, -o DIR written whole and never over existing files.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli, ensureBuilt, tempTree, type Tree } from "./prune-harness.js";

let t: Tree;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree("{}\n");
});
afterEach(() => t.cleanup());

const secretUserData = (docs: any[]) =>
  Buffer.from(docs.find((d) => d.kind === "Secret").data.userdata, "base64").toString("utf8");

/**
 * What differs by design between two plans of one agent, in user-data: the values every provision
 * makes afresh (a render is a new agent). Nothing else may differ.
 */
const PER_PROVISION: Array<[RegExp, string]> = [
  [/iid-kube-r1-\d{8}-\d{6}-[0-9a-f]{6}/g, "<instance-id>"],
  [/\b[0-9a-f]{64}\b/g, "<token>"],
  [
    /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----/g,
    "<guest host private key>",
  ],
  [/ssh-ed25519 [A-Za-z0-9+/=]+ agentshare-guest-kube-r1/g, "<guest host public key>"],
  [/ssh-ed25519 [A-Za-z0-9+/=]+ agentshare@host-for-kube-r1/g, "<agentshare client public key>"],
];
const normalise = (s: string) => PER_PROVISION.reduce((acc, [re, to]) => acc.replace(re, to), s);

describe("the Secret's user-data is provision's", () => {
  it("byte-identical to provision --dry-run's user-data apart from the per-provision values", async () => {
    const flags = [
      "--command",
      "python3 /mnt/global/tools/a.py",
      "--uid",
      "2001",
      "--gid",
      "3001",
      "--tmp-size",
      "1g",
    ];
    const d = await cli(t, ["provision", "kube-r1", "--dry-run", ...flags]);
    expect(d.code, d.stderr).toBe(0);
    const provisioned = await readFile(join(t.stateDir, "agents", "kube-r1", "user-data"), "utf8");
    const r = await cli(t, ["render", "kubevirt", "kube-r1", ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const rendered = secretUserData(yaml.loadAll(r.stdout) as any[]);
    expect(rendered).not.toBe(provisioned); // fresh token, keys and instance id: a new agent
    for (const [, placeholder] of PER_PROVISION) expect(normalise(rendered)).toContain(placeholder);
    expect(normalise(rendered)).toBe(normalise(provisioned));
    expect(rendered).toContain("python3 /mnt/global/tools/a.py");
  });

  it("the comparison can fail: a different --tmp-size is seen", async () => {
    await cli(t, ["provision", "kube-r1", "--dry-run"]);
    const provisioned = await readFile(join(t.stateDir, "agents", "kube-r1", "user-data"), "utf8");
    const r = await cli(t, ["render", "kubevirt", "kube-r1", "--tmp-size", "64m"]);
    expect(normalise(secretUserData(yaml.loadAll(r.stdout) as any[]))).not.toBe(normalise(provisioned));
  });
});

describe("bad input: as provision refuses it, and nothing is written", () => {
  async function nothingCreated(): Promise<void> {
    expect(existsSync(join(t.stateDir, "agents"))).toBe(false);
    expect((await readdir(t.root)).sort()).toEqual(["global", "staging"]);
  }

  it.each([
    [["Bad_Name"], 65],
    [["kube-r1", "--tmp-size", "99999999g"], 78],
    [["kube-r1", "--health-port", "22"], 78],
    [["kube-r1", "--memory", "100"], 78],
    [["kube-r1", "--image", "/etc/passwd"], 65],
  ])("%j → %i, the same message as provision --dry-run", async (args, code) => {
    const p = await cli(t, ["provision", ...args, "--dry-run"]);
    const r = await cli(t, ["render", "kubevirt", ...args]);
    expect(r.code, r.stderr).toBe(code);
    expect(p.code).toBe(code);
    expect(r.stderr).toBe(p.stderr);
    expect(r.stdout).toBe("");
  });

  it("render-only flags: 64 naming the flag; an unprotected global: 78; nothing on disk", async () => {
    const ns = await cli(t, ["render", "kubevirt", "kube-r1", "--namespace", "My_NS"]);
    expect(ns.code).toBe(64);
    expect(ns.stderr).toContain('agentshare: --namespace "My_NS" is not a Kubernetes namespace name');
    expect(ns.stderr).toContain("hint:");
    const g = await cli(t, [
      "render",
      "kubevirt",
      "kube-r1",
      "--global-source",
      "datavolume",
      "-o",
      join(t.base, "out"),
    ]);
    expect(g.code).toBe(78);
    expect(g.stderr).toContain("nothing outside the guest keeps global read-only");
    expect(existsSync(join(t.base, "out"))).toBe(false);
    await nothingCreated();
  });

  it("-o that is not empty or not a directory (65): left as it was", async () => {
    const dir = join(t.base, "out");
    await mkdir(dir);
    await writeFile(join(dir, "mine.yaml"), "keep: me\n");
    const r = await cli(t, ["render", "kubevirt", "kube-r1", "-o", dir]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`agentshare: -o ${dir} is not empty`);
    expect(await readdir(dir)).toEqual(["mine.yaml"]);
    const f = await cli(t, ["render", "kubevirt", "kube-r1", "-o", join(dir, "mine.yaml")]);
    expect(f.code).toBe(65);
    expect(f.stderr).toContain("exists and is not a directory");
    expect((await readdir(t.base)).filter((n) => n.includes(".tmp-"))).toEqual([]);
    await nothingCreated();
  });
});

describe("output", () => {
  it("--json is one List of the five objects", async () => {
    const r = await cli(t, ["--json", "render", "kubevirt", "kube-r1", "--namespace", "agents"]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.kind).toBe("List");
    expect(list.items.map((o: any) => `${o.kind}/${o.metadata.namespace}`)).toEqual([
      "Secret/agents",
      "PersistentVolumeClaim/agents",
      "PersistentVolumeClaim/agents",
      "VirtualMachine/agents",
      "Service/agents",
    ]);
  });

  it("-o DIR: one manifest per object and the host-side files, 0600 where secret", async () => {
    const dir = join(t.base, "out");
    const r = await cli(t, ["render", "kubevirt", "kube-r1", "-o", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([
      "1-secret-kube-r1-cloudinit.yaml",
      "2-persistentvolumeclaim-kube-r1-inbox.yaml",
      "3-persistentvolumeclaim-agentshare-global.yaml",
      "4-virtualmachine-kube-r1.yaml",
      "5-service-kube-r1.yaml",
      "state",
    ]);
    const agent = join(dir, "state", "agents", "kube-r1");
    expect((await readdir(agent)).sort()).toEqual(["id_ed25519", "id_ed25519.pub", "known_hosts", "token"]);
    for (const f of [
      join(dir, "1-secret-kube-r1-cloudinit.yaml"),
      join(agent, "token"),
      join(agent, "id_ed25519"),
    ])
      expect((await stat(f)).mode & 0o777, f).toBe(0o600);
    // the token the host keeps is the one the guest's health server gets
    const secret = yaml.load(await readFile(join(dir, "1-secret-kube-r1-cloudinit.yaml"), "utf8")) as any;
    const token = (await readFile(join(agent, "token"), "utf8")).trim();
    expect(secretUserData([secret])).toContain(`content: ${token}`);
    expect(existsSync(join(t.stateDir, "agents"))).toBe(false);
  });
});

// The user-data inside the Secret `render kubevirt` prints (with the real wrapper and health
// server) through `cloud-init schema`; and a broken copy of it, which the check must reject.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cli, ensureBuilt, tempTree, type Tree } from "../unit/prune-harness.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";
import { run, validateUserData } from "../helpers/validators.js";

describeWithTools(["cloud-init"])("cloud-init schema on render kubevirt's Secret", () => {
  let t: Tree;
  let dir: string;
  beforeAll(async () => {
    assertTools(["cloud-init"]);
    ensureBuilt();
    t = await tempTree("{}\n");
    dir = mkdtempSync(join(tmpdir(), "agentshare-kube-ud-"));
  });
  afterAll(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts the rendered user-data, rejects it broken", async () => {
    const r = await cli(t, ["render", "kubevirt", "kube-s1", "--command", "python3 -c 'print(1)'"]);
    expect(r.code, r.stderr).toBe(0);
    const secret = (yaml.loadAll(r.stdout) as any[]).find((d) => d.kind === "Secret");
    const userData = Buffer.from(secret.data.userdata, "base64").toString("utf8");
    expect(userData).toMatch(/^#cloud-config\n/);
    const good = join(dir, "user-data");
    writeFileSync(good, userData);
    await validateUserData(good);
    const bad = join(dir, "broken-user-data");
    writeFileSync(bad, userData.replace(/^mounts:\n/m, "mounts: 7\nx_mounts:\n"));
    const b = await run("cloud-init", ["schema", "--config-file", bad]).catch((e: { code: number }) => e);
    expect((b as { code?: number }).code).not.toBe(0);
  });
});

// `agentshare init` and `provision --dry-run` through the real CLI, as root in CI: the
// read-only bind mount is real and proved by a write that fails with EROFS.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { cli, CLI } from "../helpers/cli.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

/** Every path below `dir` with its type, mode, owner, size and mtime: a second init must leave it identical. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    out.push(
      `${relative(dir, p) || "."} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : "-"} ${st.mtimeMs}`,
    );
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
  };
  walk(dir);
  return out;
}

describeWithTools(["virt-xml-validate", "cloud-init", "setpriv"])(
  "init and provision --dry-run (real CLI)",
  () => {
    let base = "";
    const g = () => [
      "--root",
      join(base, "root"),
      "--state-dir",
      join(base, "state"),
      "--config",
      join(base, "none.yaml"),
    ];

    beforeAll(() => {
      if (!isRoot()) throw new Error("this tier runs as root (bind mounts)");
      assertTools(["virt-xml-validate", "cloud-init", "setpriv"]);
      base = mkdtempSync(join(tmpdir(), "agentshare-init-"));
      chmodSync(base, 0o755);
      writeFileSync(join(base, "none.yaml"), "{}\n");
    });
    afterAll(async () => {
      await unmountIfMounted(localRunner, join(base, "root", "global-ro"));
      rmSync(base, { recursive: true, force: true });
    });

    it("creates the tree with its modes and a read-only global-ro", () => {
      const r = cli([...g(), "init"]);
      expect(r.code, r.stderr).toBe(0);
      const root = join(base, "root");
      const modes = Object.fromEntries(
        ["global", "global/tools", "global/prompts", "global/configs", "global/content", "staging"].map(
          (d) => [d, statSync(join(root, d)).mode & 0o777],
        ),
      );
      expect(modes).toEqual({
        global: 0o755,
        "global/tools": 0o755,
        "global/prompts": 0o755,
        "global/configs": 0o755,
        "global/content": 0o755,
        staging: 0o770,
      });
      expect(statSync(join(base, "state")).mode & 0o777).toBe(0o711);
      expect(statSync(join(base, "state", "trash")).mode & 0o777).toBe(0o700);
      writeFileSync(join(root, "global", "tools", "t.sh"), "echo hi\n");
      expect(readFileSync(join(root, "global-ro", "tools", "t.sh"), "utf8")).toBe("echo hi\n");
      let code = "";
      try {
        writeFileSync(join(root, "global-ro", "tools", "x"), "x");
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? "";
      }
      expect(code).toBe("EROFS");
    });

    it("is idempotent: a second run changes nothing and never overwrites a file", () => {
      const root = join(base, "root");
      writeFileSync(join(root, "staging", "mine.txt"), "operator data\n");
      const before = [...snapshot(root), ...snapshot(join(base, "state"))];
      const r = cli([...g(), "--json", "init"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: [], globalRo: "already" });
      expect([...snapshot(root), ...snapshot(join(base, "state"))]).toEqual(before);
      expect(readFileSync(join(root, "staging", "mine.txt"), "utf8")).toBe("operator data\n");
    });

    it("refuses to run unprivileged without --no-mount (exit 78) and works with it", () => {
      const other = join(base, "unpriv");
      const as = (args: string[]) =>
        spawnSync(
          "setpriv",
          ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, ...args],
          { encoding: "utf8" },
        );
      const dirs = [
        "--root",
        join(other, "root"),
        "--state-dir",
        join(other, "state"),
        "--config",
        join(base, "none.yaml"),
      ];
      spawnSync("install", ["-d", "-o", "65534", "-g", "65534", other]);
      const r = as([...dirs, "init"]);
      expect(r.status).toBe(78);
      expect(r.stderr).toMatch(/must run as root/);
      expect(r.stderr).toMatch(/--no-mount/);
      expect(existsSync(join(other, "root"))).toBe(false);
      const ok = as([...dirs, "init", "--no-mount"]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/NOT mounted read-only/);
    });

    it("provision --dry-run writes valid domain.xml, user-data, meta-data and prints their paths", () => {
      const r = cli([
        ...g(),
        "--json",
        "provision",
        "agent-01",
        "--dry-run",
        "--command",
        "echo '<&>' ]]> ---",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      const dir = join(base, "state", "agents", "agent-01");
      expect(out.files).toEqual({
        domainXml: join(dir, "domain.xml"),
        userData: join(dir, "user-data"),
        metaData: join(dir, "meta-data"),
      });
      const v = spawnSync("virt-xml-validate", [out.files.domainXml, "domain"], { encoding: "utf8" });
      expect(`${v.stdout}${v.stderr}`).toMatch(/validates/);
      const c = spawnSync("cloud-init", ["schema", "--config-file", out.files.userData], {
        encoding: "utf8",
      });
      expect(`${c.stdout}${c.stderr}`).toMatch(/^Valid cloud-config/m);
      expect(readFileSync(out.files.metaData, "utf8")).toMatch(/^local-hostname: agent-01$/m);
      expect(statSync(out.files.userData).mode & 0o777).toBe(0o600);
      // nothing else: no inbox, no disk, no seed, no libvirt domain
      expect(existsSync(join(base, "root", "agent-01-inbox"))).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(["domain.xml", "meta-data", "user-data"]);
    });

    it("reports every config problem at once with exit 78, and a bad name with 65, creating nothing", () => {
      const bad = cli([
        ...g(),
        "provision",
        "agent-02",
        "--dry-run",
        "--memory",
        "12",
        "--tmp-size",
        "1G",
        "--vcpus",
        "x",
      ]);
      expect(bad.code).toBe(78);
      expect(bad.stderr).toMatch(/command line: memory: must be between 256/);
      expect(bad.stderr).toMatch(/command line: tmpSize: must be a number followed by m or g/);
      expect(bad.stderr).toMatch(/command line: vcpus: must be a whole number/);
      const name = cli([...g(), "provision", "agent_02", "--dry-run"]);
      expect(name.code).toBe(65);
      expect(name.stderr).toMatch(/invalid agent name "agent_02": may contain only lowercase letters/);
      expect(existsSync(join(base, "state", "agents", "agent-02"))).toBe(false);
      expect(existsSync(join(base, "state", "agents", "agent_02"))).toBe(false);
    });

    it("rejects an unknown flag with 64 and an unknown profile with 78", () => {
      expect(cli([...g(), "provision", "agent-03", "--frobnicate"]).code).toBe(64);
      const p = cli([...g(), "provision", "agent-03", "--dry-run", "--profile", "nope"]);
      expect(p.code).toBe(78);
      expect(p.stderr).toMatch(/no profile named "nope"/);
      expect(p.stderr).toMatch(/available profiles: default, large, small/);
    });
  },
);

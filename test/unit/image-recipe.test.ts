// The pure image recipe: packages, the files and links written into the tree, the cache key.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildImageRecipe,
  checkImageName,
  CLOUD_INIT_MODULES,
  IMAGE_PACKAGES,
  MASKED_UNITS,
  recipeKey,
} from "../../src/core/image-recipe.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";

const GiB = 1024 ** 3;
const recipe = buildImageRecipe(2 * GiB);
const file = (suffix: string) => {
  const f = recipe.files.find((x) => x.path.endsWith(suffix));
  if (!f) throw new Error(`no file ending in ${suffix}`);
  return f;
};
const cloudCfg = () => yaml.load(file(".cfg").content) as Record<string, unknown>;

describe("image recipe: packages", () => {
  it("names what a cloud-init + Node guest needs, including what debootstrap cannot resolve", () => {
    for (const p of [
      "cloud-init",
      "python3-cffi-backend",
      "nodejs",
      "linux-image-cloud-amd64",
      "systemd-sysv",
      "udev",
      "openssh-server",
    ])
      expect(IMAGE_PACKAGES).toContain(p);
    expect(new Set(IMAGE_PACKAGES).size).toBe(IMAGE_PACKAGES.length);
    for (const p of IMAGE_PACKAGES) expect(p).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
    expect(recipe.suite).toBe("bookworm");
    expect(recipe.variant).toBe("minbase");
  });
});

describe("image recipe: files written into the tree", () => {
  it("mounts / from /dev/vda and leaves an empty machine-id", () => {
    expect(file("etc/fstab").content).toBe("/dev/vda / ext4 defaults,errors=remount-ro 0 1\n");
    expect(file("etc/machine-id").content).toBe("");
  });

  it("takes the NoCloud seed only and sets no locale (there is no locales package)", () => {
    const cfg = cloudCfg();
    expect(cfg.datasource_list).toEqual(["NoCloud", "None"]);
    expect(cfg).not.toHaveProperty("locale"); // `locale: false` fails 22.4's schema: cc_locale is dropped instead
    expect(cfg.ssh_genkeytypes).toEqual(["ed25519", "ecdsa"]);
  });

  it("keeps every module our user-data uses and drops the slow unused ones", () => {
    const cfg = cloudCfg();
    const all = [
      ...(cfg.cloud_init_modules as string[]),
      ...(cfg.cloud_config_modules as string[]),
      ...(cfg.cloud_final_modules as string[]),
    ];
    const used = [
      "bootcmd",
      "write-files",
      "mounts",
      "users-groups",
      "ssh",
      "runcmd",
      "scripts-user",
      "final-message",
    ];
    for (const m of [...used, "set_hostname", "update_hostname", "update_etc_hosts", "growpart", "resizefs"])
      expect(all).toContain(m);
    for (const m of [
      "keys-to-console",
      "locale",
      "ssh-authkey-fingerprints",
      "apt-configure",
      "grub-dpkg",
      "snap",
    ])
      expect(all).not.toContain(m);
    expect(cfg.cloud_init_modules).toEqual([...CLOUD_INIT_MODULES.cloud_init_modules]);
    // bootcmd (creates the agent's group) must run before users-groups
    const init = cfg.cloud_init_modules as string[];
    expect(init.indexOf("bootcmd")).toBeLessThan(init.indexOf("users-groups"));
  });

  it("lets systemd-networkd-wait-online return on the first link, within 20 s", () => {
    const f = file("systemd-networkd-wait-online.service.d/agentshare-image.conf");
    expect(f.content).toMatch(/^ExecStart=$/m); // clears the packaged ExecStart before replacing it
    expect(f.content).toMatch(/^ExecStart=\S*systemd-networkd-wait-online --any --timeout=20$/m);
  });

  it("enables systemd-networkd and masks the timers", () => {
    const link = (p: string) => recipe.links.find((l) => l.path === p)?.target;
    expect(link("etc/systemd/system/multi-user.target.wants/systemd-networkd.service")).toBe(
      "/lib/systemd/system/systemd-networkd.service",
    );
    expect(link("etc/systemd/system/sockets.target.wants/systemd-networkd.socket")).toBe(
      "/lib/systemd/system/systemd-networkd.socket",
    );
    for (const t of ["apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer"]) {
      expect(MASKED_UNITS).toContain(t);
      expect(link(`etc/systemd/system/${t}`)).toBe("/dev/null");
    }
  });

  it("removes the build host's ssh host keys and the downloaded .debs", () => {
    expect(recipe.remove).toContain("etc/ssh/ssh_host_*");
    expect(recipe.remove).toContain("var/cache/apt/archives/*.deb");
  });

  it("contains nothing agentshare-specific: no shares, no services of ours", () => {
    for (const f of recipe.files)
      expect(f.content).not.toMatch(/agentglobal|agentinbox|\/mnt\/(global|inbox)|8118/);
    for (const l of recipe.links)
      expect(l.target === "/dev/null" || l.target.startsWith("/lib/systemd/system/systemd-")).toBe(true);
    for (const f of recipe.files) expect(f.path).not.toMatch(/\.(service|socket|timer)$/);
  });
});

describe("image recipe: cache key", () => {
  it("is stable for the same recipe and changes with packages, files, links or size", () => {
    const k = recipeKey(recipe);
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(recipeKey(buildImageRecipe(2 * GiB))).toBe(k);
    expect(recipeKey(buildImageRecipe(3 * GiB))).not.toBe(k);
    expect(recipeKey({ ...recipe, packages: [...recipe.packages, "vim-tiny"] })).not.toBe(k);
    const files = recipe.files.map((f) =>
      f.path === "etc/fstab" ? { ...f, content: `${f.content}# x\n` } : f,
    );
    expect(recipeKey({ ...recipe, files })).not.toBe(k);
    expect(recipeKey({ ...recipe, links: recipe.links.slice(1) })).not.toBe(k);
    expect(recipeKey({ ...recipe, suite: "trixie" })).not.toBe(k);
  });
});

describe("image names", () => {
  it("accepts file-safe names and explains the rule otherwise", () => {
    for (const ok of ["debian-12", "a", "deb.12_x"]) expect(checkImageName(ok)).toBeUndefined();
    for (const bad of ["", "-x", "A", "a/b", "a b", "x".repeat(64), "a..b", ".hidden"])
      expect(checkImageName(bad)).toMatch(/must/);
  });
});

describeWithTools(["cloud-init"])(
  "image recipe: the cloud.cfg.d drop-in against cloud-init's own schema",
  () => {
    let dir = "";
    beforeAll(async () => {
      assertTools(["cloud-init"]);
      dir = await mkdtemp(join(tmpdir(), "image-recipe-"));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("is valid cloud-config (cloud-init schema -c)", async () => {
      const path = join(dir, "drop-in.yaml");
      await writeFile(path, `#cloud-config\n${file(".cfg").content}`);
      const out = execFileSync("cloud-init", ["schema", "-c", path], { encoding: "utf8" });
      expect(out).toMatch(/Valid cloud-config/);
      // and the check can fail: the value the architecture notes suggested is rejected by 22.4
      await writeFile(path, `#cloud-config\n${file(".cfg").content}locale: false\n`);
      expect(() => execFileSync("cloud-init", ["schema", "-c", path], { stdio: "pipe" })).toThrow();
    });
  },
);

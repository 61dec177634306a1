// Image metadata, dpkg versions, kernel pick, the set on disk (install, verify, cache) and the
// tree customisation, on real files in temp dirs.
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  imageFiles,
  parseDpkgStatus,
  parseImageMeta,
  pickKernelRelease,
  validateImageMeta,
} from "../../src/core/image-meta.js";
import { buildImageRecipe } from "../../src/core/image-recipe.js";
import { ToolError } from "../../src/errors.js";
import { cacheEntryDir, loadFromCache, storeInCache } from "../../src/ops/image-cache.js";
import { installSet, readImageSet, verifySet } from "../../src/ops/image-set.js";
import { customiseTree, findKernel, parseMountPoints } from "../../src/ops/image-work.js";
import { listImages } from "../../src/ops/image.js";
import { FIXTURES, writeFakeSet } from "./image-fixtures.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "image-meta-"));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("parseDpkgStatus on a recorded debootstrap tree", () => {
  it("gives the versions of the kernel, cloud-init and nodejs", async () => {
    const text = await readFile(join(FIXTURES, "dpkg-status"), "utf8");
    expect(
      parseDpkgStatus(text, ["linux-image-6.1.0-50-cloud-amd64", "cloud-init", "nodejs", "absent"]),
    ).toEqual({
      "linux-image-6.1.0-50-cloud-amd64": "6.1.176-1",
      "cloud-init": "22.4.2-1+deb12u4",
      nodejs: "18.20.4+dfsg-1~deb12u2",
    });
  });
  it("skips packages that are not installed", () => {
    const text =
      "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n";
    expect(parseDpkgStatus(text, ["a", "b"])).toEqual({ b: "2" });
  });
});

describe("pickKernelRelease", () => {
  it("picks the newest release that has both vmlinuz and initrd", () => {
    const boot = [
      "config-6.1.0-9-cloud-amd64",
      "vmlinuz-6.1.0-9-cloud-amd64",
      "initrd.img-6.1.0-9-cloud-amd64",
      "vmlinuz-6.1.0-50-cloud-amd64",
      "initrd.img-6.1.0-50-cloud-amd64",
      "vmlinuz-6.1.0-51-cloud-amd64",
    ];
    expect(pickKernelRelease(boot)).toBe("6.1.0-50-cloud-amd64");
    expect(pickKernelRelease(["System.map-1"])).toBeUndefined();
  });
});

describe("image metadata JSON", () => {
  it("round-trips a written set and lists every problem of a bad one", async () => {
    const d = await tempDir();
    const meta = await writeFakeSet(d, "debian-12", "k1");
    const parsed = parseImageMeta(await readFile(imageFiles(d, "debian-12").meta, "utf8"));
    expect(parsed).toEqual({ meta });
    const bad = validateImageMeta({
      ...meta,
      builtAt: "yesterday",
      sizes: { qcow2: "1" },
      sha256: null,
      packages: { a: 1 },
    });
    expect(bad).toEqual(
      expect.arrayContaining([
        "builtAt: must be an ISO date",
        "sizes.qcow2: must be a number",
        "sizes.virtual: must be a number",
        "sha256: must be an object",
        "packages: must map package names to version strings",
      ]),
    );
    expect(parseImageMeta("{")).toHaveProperty("problems");
  });
});

describe("image sets on disk", () => {
  it("installs staged files under the final names, metadata last, and lists them", async () => {
    const d = await tempDir();
    const stagedDir = join(d, ".work");
    const meta = await writeFakeSet(stagedDir, "out", "k1");
    await installSet(host, imageFiles(stagedDir, "out"), imageFiles(d, "debian-12"), {
      ...meta,
      name: "debian-12",
    });
    const set = await readImageSet(host, d, "debian-12");
    expect(set?.meta.name).toBe("debian-12");
    await verifySet(host, imageFiles(d, "debian-12"), meta);
    const list = await listImages(host, d);
    expect(list.map((i) => [i.name, i.size, i.kernel])).toEqual([
      ["debian-12", meta.sizes.qcow2, "6.1.0-50-cloud-amd64"],
    ]);
  });

  it("treats a set without its metadata or a file as absent, and detects a damaged file", async () => {
    const d = await tempDir();
    const meta = await writeFakeSet(d, "a", "k1");
    await rm(imageFiles(d, "a").initrd);
    expect(await readImageSet(host, d, "a")).toBeUndefined();
    expect(await listImages(host, d)).toEqual([]);
    await writeFakeSet(d, "b", "k1");
    await writeFile(imageFiles(d, "b").vmlinuz, "tampered");
    await expect(verifySet(host, imageFiles(d, "b"), { ...meta })).rejects.toThrow(/does not match/);
  });
});

describe("image cache", () => {
  it("stores a set under its recipe key and copies it back with checked sha256", async () => {
    const d = await tempDir();
    const meta = await writeFakeSet(join(d, "images"), "debian-12", "k1");
    const entry = await storeInCache(
      host,
      join(d, "cache"),
      "k1",
      imageFiles(join(d, "images"), "debian-12"),
      meta,
    );
    expect(entry).toBe(cacheEntryDir(join(d, "cache"), "k1"));
    const staged = imageFiles(await tempDir(), "out");
    expect((await loadFromCache(host, join(d, "cache"), "k1", staged))?.sha256).toEqual(meta.sha256);
    expect((await stat(staged.qcow2)).size).toBe(meta.sizes.qcow2);
    expect(await loadFromCache(host, join(d, "cache"), "k2", staged)).toBeUndefined();
  });
});

describe("customiseTree and findKernel on a small fake tree", () => {
  async function tree(units: string[]) {
    const root = await tempDir();
    await mkdir(join(root, "lib/systemd/system"), { recursive: true });
    for (const u of units) await writeFile(join(root, "lib/systemd/system", u), "[Unit]\n");
    await mkdir(join(root, "etc/ssh"), { recursive: true });
    await writeFile(join(root, "etc/ssh/ssh_host_rsa_key"), "secret");
    await writeFile(join(root, "etc/ssh/sshd_config"), "keep");
    return root;
  }

  it("writes the files and links and removes the host keys", async () => {
    const root = await tree([
      "systemd-networkd.service",
      "systemd-networkd.socket",
      "systemd-networkd-wait-online.service",
    ]);
    const recipe = buildImageRecipe(2 * 1024 ** 3);
    await customiseTree(host, root, recipe);
    expect(await readFile(join(root, "etc/fstab"), "utf8")).toMatch(/^\/dev\/vda \/ ext4/);
    expect((await stat(join(root, "etc/machine-id"))).size).toBe(0);
    expect(await readlink(join(root, "etc/systemd/system/fstrim.timer"))).toBe("/dev/null");
    expect(
      await readlink(join(root, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service")),
    ).toBe("/lib/systemd/system/systemd-networkd.service");
    await expect(stat(join(root, "etc/ssh/ssh_host_rsa_key"))).rejects.toThrow();
    expect(await readFile(join(root, "etc/ssh/sshd_config"), "utf8")).toBe("keep");
  });

  it("refuses a tree that lacks a unit it must enable", async () => {
    const root = await tree(["systemd-networkd.service"]);
    await expect(customiseTree(host, root, buildImageRecipe(2 * 1024 ** 3))).rejects.toThrow(ToolError);
  });

  it("finds the kernel and initrd, or says what is missing", async () => {
    const root = await tempDir();
    await expect(findKernel(host, root)).rejects.toThrow(/no vmlinuz/);
    await mkdir(join(root, "boot"));
    for (const f of ["vmlinuz-6.1.0-50-cloud-amd64", "initrd.img-6.1.0-50-cloud-amd64"])
      await writeFile(join(root, "boot", f), f);
    expect(await findKernel(host, root)).toEqual({
      release: "6.1.0-50-cloud-amd64",
      vmlinuz: join(root, "boot/vmlinuz-6.1.0-50-cloud-amd64"),
      initrd: join(root, "boot/initrd.img-6.1.0-50-cloud-amd64"),
    });
  });
});

describe("parseMountPoints", () => {
  it("reads field 5 of mountinfo and decodes octal escapes", async () => {
    const line =
      "36 35 98:0 /mnt1 /var/lib/agentshare/images/.x.build-1/root/proc\\040x rw,noatime master:1 - ext3 /dev/root rw";
    expect(parseMountPoints(`${line}\n`)).toEqual(["/var/lib/agentshare/images/.x.build-1/root/proc x"]);
    expect(parseMountPoints(await readFile("/proc/self/mountinfo", "utf8"))).toContain("/");
  });
});

// `agentshare image build|list|rm` as a real process, on temp state dirs: every path that
// needs no debootstrap (reuse, cache hit, bad flags, list, rm). The full build is e2e's job.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { imageFiles } from "../../src/core/image-meta.js";
import { buildImageRecipe, recipeKey } from "../../src/core/image-recipe.js";
import { cacheEntryDir } from "../../src/ops/image-cache.js";
import { runCli, writeFakeSet } from "./image-fixtures.js";

const dirs: string[] = [];
async function state() {
  const base = await mkdtemp(join(tmpdir(), "image-cli-"));
  dirs.push(base);
  const stateDir = join(base, "state");
  return {
    base,
    stateDir,
    images: join(stateDir, "images"),
    g: ["--state-dir", stateDir, "--root", join(base, "root")],
  };
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const KEY_2G = recipeKey(buildImageRecipe(2 * 1024 ** 3));

describe("image list", () => {
  it("on a state dir without images says how to build one; --json gives []", async () => {
    const s = await state();
    const text = await runCli([...s.g, "image", "list"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/no images in .*images; build one with `agentshare image build`/);
    await mkdir(s.images, { recursive: true });
    const json = await runCli([...s.g, "--json", "image", "list"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it("shows name, size, build time and kernel from the metadata", async () => {
    const s = await state();
    const meta = await writeFakeSet(s.images, "debian-12", KEY_2G);
    const r = await runCli([...s.g, "--json", "image", "list"]);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({
        name: "debian-12",
        size: meta.sizes.qcow2,
        builtAt: meta.builtAt,
        kernel: meta.kernelRelease,
      }),
    ]);
  });
});

describe("image rm", () => {
  it("exits 66 for a missing image and 64 for a bad name", async () => {
    const s = await state();
    const r = await runCli([...s.g, "image", "rm", "debian-12"]);
    expect(r.code).toBe(66);
    expect(r.stderr).toMatch(/no image "debian-12"/);
    expect((await runCli([...s.g, "image", "rm", "../etc"])).code).toBe(64);
  });

  it("removes all four files", async () => {
    const s = await state();
    await writeFakeSet(s.images, "debian-12", KEY_2G);
    await writeFakeSet(s.images, "other", KEY_2G);
    const r = await runCli([...s.g, "--json", "image", "rm", "debian-12"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).removed).toHaveLength(4);
    expect((await readdir(s.images)).sort()).toEqual([
      "other.initrd.img",
      "other.json",
      "other.qcow2",
      "other.vmlinuz",
    ]);
    expect(await readFile(join(s.stateDir, "audit.jsonl"), "utf8")).toMatch(
      /"verb":"image-rm".*"image":"debian-12"/,
    );
  });
});

describe("image build without debootstrap", () => {
  it("reuses a complete image and cleans a dead build's work dir", async () => {
    const s = await state();
    const meta = await writeFakeSet(s.images, "debian-12", KEY_2G);
    await mkdir(join(s.images, ".debian-12.build-999999999", "root"), { recursive: true });
    const r = await runCli([...s.g, "--json", "image", "build", "--no-cache"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe("existing");
    expect(out.meta.builtAt).toBe(meta.builtAt);
    expect(out.removedStale).toEqual([".debian-12.build-999999999"]);
    expect(out.outdated).toBe(false);
    const other = await runCli([...s.g, "image", "build", "--size", "3G", "--no-cache"]);
    expect(other.stdout).toMatch(/from an older recipe: pass --rebuild/);
    expect((await readdir(s.images)).filter((e) => e.startsWith("."))).toEqual([]);
  });

  it("copies a cached set with the same recipe key and checks it", async () => {
    const s = await state();
    const cache = join(s.base, "cache");
    const meta = await writeFakeSet(cacheEntryDir(cache, KEY_2G), "image", KEY_2G);
    const r = await runCli([...s.g, "--json", "image", "build", "mine", "--cache-dir", cache]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe("cache");
    expect(out.meta).toEqual({ ...meta, name: "mine" });
    const f = imageFiles(s.images, "mine");
    expect((await stat(f.qcow2)).size).toBe(meta.sizes.qcow2);
    expect(JSON.parse(await readFile(f.meta, "utf8")).name).toBe("mine");
    expect((await readdir(s.images)).filter((e) => e.startsWith("."))).toEqual([]);
  });

  it("refuses a damaged cached copy (exit 65) and leaves no image behind", async () => {
    const s = await state();
    const cache = join(s.base, "cache");
    await writeFakeSet(cacheEntryDir(cache, KEY_2G), "image", KEY_2G);
    await writeFile(imageFiles(cacheEntryDir(cache, KEY_2G), "image").qcow2, "truncated");
    const r = await runCli([...s.g, "image", "build", "--cache-dir", cache]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/does not match its metadata/);
    expect(await readdir(s.images)).toEqual([]);
  });

  it("rejects bad flags with exit 64 before doing anything", async () => {
    const s = await state();
    for (const args of [["--size", "10M"], ["--size", "big"], ["--mirror", "ftp://x"], ["Bad/Name"]]) {
      const r = await runCli([...s.g, "image", "build", ...args, "--no-cache"]);
      expect(r.code, args.join(" ")).toBe(64);
      expect(r.stderr).toMatch(/must/);
    }
  });
});

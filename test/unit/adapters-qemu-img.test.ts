import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError, NotFoundError } from "../../src/errors.js";
import { localRunner } from "../../src/adapters/runner.js";
import * as q from "../../src/adapters/qemu-img.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";

// Recorded with qemu-img 7.2.22 (Debian 12) on this project's machine: see each *.cmd beside it.
const fx = (name: string) => readFileSync(new URL(`../fixtures/qemu-img/${name}`, import.meta.url), "utf8");

describe("qemu-img info parser on recorded output", () => {
  it("reads an overlay's format, size and backing file", () => {
    expect(q.parseImageInfo(fx("info-overlay.stdout"))).toEqual({
      filename: "/tmp/qimg.zUAP/overlay.qcow2",
      format: "qcow2",
      virtualSizeBytes: 1073741824,
      actualSizeBytes: 200704,
      backingFile: "/tmp/qimg.zUAP/base.qcow2",
      fullBackingFile: "/tmp/qimg.zUAP/base.qcow2",
      backingFormat: "qcow2",
    });
    expect(q.parseImageInfo(fx("info-overlay-sized.stdout")).virtualSizeBytes).toBe(4 * 1024 ** 3);
  });

  it("reads images without a backing file", () => {
    const base = q.parseImageInfo(fx("info-base.stdout"));
    expect(base.backingFile).toBeUndefined();
    expect(base.format).toBe("qcow2");
    expect(q.parseImageInfo(fx("info-raw.stdout"))).toMatchObject({
      format: "raw",
      virtualSizeBytes: 67108864,
    });
  });

  it("rejects output that is not an image description", () => {
    expect(() => q.parseImageInfo("qemu-img: error")).toThrow(/not JSON/);
    expect(() => q.parseImageInfo("{}")).toThrow(/format or virtual-size/);
  });

  it("knows a missing image or backing file from stderr", () => {
    expect(q.isImageMissing(fx("info-missing.stderr"))).toBe(true);
    expect(q.isImageMissing(fx("create-overlay-missing-base.stderr"))).toBe(true);
  });
});

describe("qemu-img argv builders", () => {
  it("builds an overlay with an explicit backing format", () => {
    expect(q.createOverlayArgv("/b.qcow2", "/o.qcow2")).toEqual([
      ...["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "/b.qcow2", "/o.qcow2"],
    ]);
    expect(q.createOverlayArgv("/b.qcow2", "/o.qcow2", 2 ** 31).at(-1)).toBe("2147483648");
    expect(() => q.createOverlayArgv("/b", "/o", 0)).toThrow(DataError);
    expect(() => q.createOverlayArgv("/b", "/o", 1.5)).toThrow(/whole number/);
    expect(q.overlaySizeBytes("20G")).toBe(20 * 1024 ** 3);
    expect(q.overlaySizeBytes(undefined)).toBeUndefined();
    expect(() => q.overlaySizeBytes("twenty")).toThrow(/not a size/);
    expect(q.infoArgv("/o.qcow2")).toEqual(["info", "-U", "--output=json", "/o.qcow2"]);
  });
});

describeWithTools(["qemu-img"])("qemu-img for real", () => {
  let dir = "";
  beforeAll(() => {
    assertTools(["qemu-img"]);
    dir = mkdtempSync(join(tmpdir(), "agentshare-qemu-img-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates an overlay on a base image and reads it back", async () => {
    const base = join(dir, "base.qcow2");
    const r = await localRunner("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
    expect(r.exitCode).toBe(0);
    const overlay = join(dir, "overlay.qcow2");
    await q.createOverlay(localRunner, { base, overlay, size: "2G" });
    const info = await q.imageInfo(localRunner, overlay);
    expect(info).toMatchObject({
      format: "qcow2",
      virtualSizeBytes: 2 * 1024 ** 3,
      fullBackingFile: base,
      backingFormat: "qcow2",
    });
    const plain = join(dir, "plain.qcow2");
    await q.createOverlay(localRunner, { base, overlay: plain });
    expect((await q.imageInfo(localRunner, plain)).virtualSizeBytes).toBe(1024 ** 3);
  });

  it("refuses a size below the base image's, and a missing base", async () => {
    const base = join(dir, "base2.qcow2");
    await localRunner("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
    await expect(
      q.createOverlay(localRunner, { base, overlay: join(dir, "small.qcow2"), size: 512 * 1024 ** 2 }),
    ).rejects.toThrow(/smaller than the base/);
    await expect(
      q.createOverlay(localRunner, { base: join(dir, "none.qcow2"), overlay: join(dir, "o2.qcow2") }),
    ).rejects.toThrow(NotFoundError);
    await expect(q.imageInfo(localRunner, join(dir, "none.qcow2"))).rejects.toThrow(NotFoundError);
    writeFileSync(join(dir, "text.txt"), "not an image\n");
    expect((await q.imageInfo(localRunner, join(dir, "text.txt"))).format).toBe("raw");
  });
});

// The image boot bench's pure parts: the checks on real guest reports (recorded) and the
// user-data it sends.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { checkDiag, userData } from "../../scripts/bench/image-boot-spec.js";
import { REPO } from "./image-fixtures.js";

const report = (name: string) => readFile(join(REPO, "test/fixtures/image", name), "utf8");

describe("checkDiag on recorded guest reports", () => {
  it("passes the report of the image as built", async () => {
    expect(checkDiag(await report("diag-trimmed.txt"))).toEqual([]);
  });
  it("names what failed when cc_locale broke cloud-init", async () => {
    expect(checkDiag(await report("diag-stock-with-locale.txt"))).toEqual(
      expect.arrayContaining(["cloud-init status done", "no cloud-init errors", "no failed units"]),
    );
  });
  it("catches a writable global share", async () => {
    const bad = (await report("diag-trimmed.txt")).replace(/Read-only file system\nrefused/g, "WROTE");
    expect(checkDiag(bad)).toEqual(["agent cannot write global", "root cannot write global after remount"]);
  });
});

describe("the bench's user-data", () => {
  it("is our builder's, with the diag script appended after the marker, and stock module lists on request", () => {
    const doc = yaml.load(userData("iid-1", "t".repeat(64), "stock", "#!/bin/sh\n")) as Record<
      string,
      unknown[]
    >;
    const runcmd = doc.runcmd as string[][];
    expect(runcmd.at(-2)?.[2]).toMatch(/\.agentshare-ready/);
    expect(runcmd.at(-1)?.[2]).toMatch(/imgtest-diag/);
    expect(doc.cloud_final_modules).toContain("keys-to-console");
    expect(doc.cloud_config_modules).not.toContain("locale");
    const trimmed = yaml.load(userData("iid-1", "t".repeat(64), "trimmed", "x")) as Record<string, unknown>;
    expect(trimmed).not.toHaveProperty("cloud_final_modules");
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import * as seed from "../../src/adapters/seed-iso.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

// Recorded: `isoinfo -d` of a genisoimage 1.1.11 seed (Debian 12): see isoinfo-d.cmd beside it.
const ISOINFO = readFileSync(new URL("../fixtures/genisoimage/isoinfo-d.stdout", import.meta.url), "utf8");

describe("seed ISO argv and isoinfo parser", () => {
  it("labels the volume cidata with Joliet and Rock Ridge", () => {
    expect(seed.seedIsoArgv("genisoimage", "/o.iso", ["/t/user-data", "/t/meta-data"])).toEqual([
      ...[
        "-quiet",
        "-output",
        "/o.iso",
        "-volid",
        "cidata",
        "-joliet",
        "-rock",
        "/t/user-data",
        "/t/meta-data",
      ],
    ]);
    expect(seed.seedIsoArgv("xorriso", "/o.iso", []).slice(0, 3)).toEqual(["-as", "mkisofs", "-quiet"]);
  });

  it("finds genisoimage or xorriso", async () => {
    expect(["genisoimage", "xorriso", undefined]).toContain(await seed.findSeedIsoTool(localRunner));
  });

  it("parses isoinfo -d", () => {
    expect(seed.parseIsoInfo(ISOINFO)).toEqual({ volumeId: "cidata", joliet: true, rockRidge: true });
    expect(seed.parseIsoInfo("Volume id: x\n")).toEqual({ volumeId: "x", joliet: false, rockRidge: false });
  });
});

describeWithTools(["genisoimage", "isoinfo"])("seed ISO for real", () => {
  let dir = "";
  beforeAll(() => {
    assertTools(["genisoimage", "isoinfo"]);
    dir = mkdtempSync(join(tmpdir(), "agentshare-seed-test-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const isoinfo = (...args: string[]) => execFileSync("isoinfo", args, { encoding: "utf8" });

  it("writes user-data, meta-data and network-config that read back intact", async () => {
    const out = join(dir, "seed.iso");
    const userData = "#cloud-config\nruncmd:\n  - [sh, -c, 'echo ünïcødé > /tmp/x']\n";
    const files = {
      userData,
      metaData: "instance-id: iid-1\nlocal-hostname: a1\n",
      networkConfig: "version: 2\n",
    };
    const tool = await seed.writeSeedIso(host, files, out);
    expect(tool).toBe("genisoimage");
    expect(seed.parseIsoInfo(isoinfo("-d", "-i", out))).toEqual({
      volumeId: "cidata",
      joliet: true,
      rockRidge: true,
    });
    expect(isoinfo("-f", "-R", "-i", out).split("\n").filter(Boolean).sort()).toEqual([
      "/meta-data",
      "/network-config",
      "/user-data",
    ]);
    expect(isoinfo("-R", "-x", "/user-data", "-i", out)).toBe(userData);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["seed.iso"]); // no temp file left beside it
  });

  it("replaces an existing seed and leaves out network-config when not given", async () => {
    const out = join(dir, "seed.iso");
    const files = { userData: "#cloud-config\n", metaData: "instance-id: iid-2\n" };
    await seed.writeSeedIso(host, files, out, 0o640);
    expect(isoinfo("-R", "-x", "/meta-data", "-i", out)).toBe("instance-id: iid-2\n");
    expect(isoinfo("-f", "-R", "-i", out)).not.toContain("network-config");
    expect(statSync(out).mode & 0o777).toBe(0o640);
  });

  it("fails with the tool's message when the output folder is missing", async () => {
    await expect(
      seed.writeSeedIso(host, { userData: "", metaData: "" }, join(dir, "nope", "seed.iso")),
    ).rejects.toThrow(/genisoimage/);
  });
});

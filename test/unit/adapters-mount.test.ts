import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../../src/errors.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import * as mnt from "../../src/adapters/mount.js";
import * as mi from "../../src/core/mountinfo.js";
import { isRoot } from "../helpers/tools.js";

// Recorded from /proc/self/mountinfo on this project's machine: see bind-ro-and-rw.cmd beside it.
const text = readFileSync(new URL("../fixtures/mountinfo/bind-ro-and-rw.mountinfo", import.meta.url), "utf8");
const entries = mi.parseMountinfo(text);

describe("mountinfo parser on recorded output", () => {
  it("parses every line with its fields", () => {
    expect(entries).toHaveLength(text.trim().split("\n").length);
    expect(mi.mountAt(entries, "/")).toMatchObject({
      fsType: "ext4",
      source: "/dev/vda",
      root: "/",
      device: "254:0",
    });
    expect(mi.mountAt(entries, "/proc")).toMatchObject({ fsType: "proc", options: ["rw", "relatime"] });
  });

  it("sees the read-only bind of global and its source", () => {
    const st = mi.bindState(entries, "/tmp/mi-rec/srv/global", "/tmp/mi-rec/srv/global-ro");
    expect(st).toMatchObject({ mounted: true, bindOfSource: true, readOnly: true });
    expect(st.entry?.superOptions[0]).toBe("rw"); // the file system is rw; only this mount is ro
  });

  it("unescapes paths and sees a rw bind as not read-only", () => {
    const st = mi.bindState(entries, "/tmp/mi-rec/sp ace/global", "/tmp/mi-rec/sp ace/global-ro/");
    expect(st).toMatchObject({ mounted: true, bindOfSource: true, readOnly: false });
  });

  it("tells a bind of another folder and a plain folder apart", () => {
    expect(mi.bindState(entries, "/tmp/mi-rec/srv/other", "/tmp/mi-rec/srv/global-ro").bindOfSource).toBe(
      false,
    );
    expect(mi.bindState(entries, "/tmp/mi-rec/srv/global", "/tmp/mi-rec/srv").mounted).toBe(false);
  });

  it("locates a path inside its file system through nested mounts", () => {
    expect(mi.mountContaining(entries, "/sys/fs/cgroup/cpu/x")?.mountPoint).toBe("/sys/fs/cgroup/cpu");
    expect(mi.fsLocation(entries, "/tmp/mi-rec/srv/global-ro/tools")).toEqual({
      device: "254:0",
      root: "/tmp/mi-rec/srv/global/tools",
    });
    expect(mi.fsLocation(entries, "/")).toEqual({ device: "254:0", root: "/" });
  });

  it("skips lines without the separator and keeps the last mount on a point", () => {
    const extra = `${text}garbage line\n99 27 0:99 / /tmp/mi-rec/srv/global-ro rw - tmpfs tmpfs rw\n`;
    const st = mi.bindState(mi.parseMountinfo(extra), "/tmp/mi-rec/srv/global", "/tmp/mi-rec/srv/global-ro");
    expect(st).toMatchObject({ mounted: true, bindOfSource: false, readOnly: false });
    expect(mi.parseMountinfoLine("1 2 3")).toBeUndefined();
  });
});

describe("mount argv builders", () => {
  it("binds, then remounts the bind read-only", () => {
    expect(mnt.bindArgv("/s/global", "/s/global-ro")).toEqual(["--bind", "/s/global", "/s/global-ro"]);
    expect(mnt.remountReadOnlyArgv("/s/global-ro")).toEqual(["-o", "remount,bind,ro", "/s/global-ro"]);
  });
});

// Bind mounts need root: off root this is skipped locally and fails under CI (where tests run as root).
describe.skipIf(!isRoot() && !process.env.CI)("read-only bind mount for real (root)", () => {
  let dir = "";
  const mounted: string[] = [];
  beforeAll(() => {
    if (!isRoot()) throw new Error("bind mount tests need root (CI runs as root)");
    dir = mkdtempSync(join(tmpdir(), "agentshare-mount-"));
  });
  afterAll(async () => {
    for (const m of mounted.reverse()) await mnt.unmountIfMounted(localRunner, m);
    rmSync(dir, { recursive: true, force: true });
  });

  it("mounts once, is idempotent, and the bind refuses writes", async () => {
    const [src, dst] = [join(dir, "global"), join(dir, "global-ro")];
    mkdirSync(join(src, "tools"), { recursive: true });
    mkdirSync(dst);
    writeFileSync(join(src, "tools", "hello.txt"), "hi\n");
    mounted.push(dst);
    expect(await mnt.ensureReadOnlyBind(localHost(localRunner), src, dst)).toBe("mounted-read-only");
    expect(await mnt.ensureReadOnlyBind(localHost(localRunner), src, dst)).toBe("already-read-only");
    expect(readFileSync(join(dst, "tools", "hello.txt"), "utf8")).toBe("hi\n");
    expect(await mnt.probeWrite(dst)).toBe("EROFS");
    expect(await mnt.probeWrite(src)).toBeUndefined();
    expect(await mnt.isReadOnlyBind(localHost(localRunner), dst, { source: src })).toBe(true);
    expect(await mnt.isReadOnlyBind(localHost(localRunner), src)).toBe(false);
    expect(await mnt.bindReadOnly(localHost(localRunner), src, dst)).toBe("already");
    const count = mi
      .parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"))
      .filter((e) => e.mountPoint === dst);
    expect(count).toHaveLength(1);
  });

  it("remounts a rw bind read-only, and refuses a foreign mount", async () => {
    const [src, dst, other] = [join(dir, "g2"), join(dir, "g2 ro"), join(dir, "other")];
    for (const d of [src, dst, other]) mkdirSync(d);
    mounted.push(dst);
    execFileSync("mount", ["--bind", src, dst]);
    expect(await mnt.isReadOnlyBind(localHost(localRunner), dst, { source: src })).toBe(false);
    expect(await mnt.ensureReadOnlyBind(localHost(localRunner), src, dst)).toBe("remounted-read-only");
    await expect(mnt.ensureReadOnlyBind(localHost(localRunner), other, dst)).rejects.toThrow(DataError);
    expect(await mnt.unmountIfMounted(localRunner, dst)).toBe(true);
    expect(await mnt.unmountIfMounted(localRunner, dst)).toBe(false);
  });
});

// The inbox as its own file system (ops/inbox.ts on the real mkfs.ext4, mount and loop devices,
// as root). What guest root plants there, written here as virtiofsd would write it (as root on
// the host), stays inert: setuid binaries do not run, device nodes do not open, symlinks are not
// followed; writes stop at the limit, through a deleted open file too.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  unlink,
} from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);
import { agentPaths, hostPaths, type AgentPaths } from "../../src/core/paths.js";
import { ensureInbox, inboxSpace, mountAllInboxes, mountAt, removeInboxImage } from "../../src/ops/inbox.js";
import { isRoot } from "../helpers/tools.js";
import { cli, ensureBuilt, makeRun, pointCurrent, runsLeft, tempTree, type Tree } from "./prune-harness.js";

const MiB = 1024 * 1024;
const UID = 1000;
const GID = 1000;
const skip = !isRoot() && !process.env.CI; // under CI a non-root run fails instead

let t: Tree;
let a: AgentPaths;
const paths = () => hostPaths(t.root, t.stateDir);
const ensure = (limitBytes = 64 * MiB) =>
  ensureInbox(host, paths().inboxesDir, a, { uid: UID, gid: GID, limitBytes });

/** Writes zeros to `fd` until the file system refuses; returns the error code and bytes written. */
function fill(fd: number): { code: string | undefined; bytes: number } {
  const chunk = Buffer.alloc(MiB);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code, bytes };
  }
}

describe.skipIf(skip)("inbox file system", () => {
  beforeEach(async () => {
    ensureBuilt();
    t = await tempTree("inboxQuota: 64M\n");
    a = agentPaths(paths(), "agent-a");
  });
  afterEach(() => t.cleanup());

  it("is created mounted nosuid,nodev,noexec,nosymfollow, owned by the agent, 0770, with its folders", async () => {
    const r = await ensure();
    expect(r).toMatchObject({ action: "created", limitBytes: 64 * MiB });
    const m = await mountAt(host, a.inbox);
    expect(m?.fsType).toBe("ext4");
    expect(m?.options).toEqual(expect.arrayContaining(["nosuid", "nodev", "noexec", "nosymfollow"]));
    const st = await stat(a.inbox);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([UID, GID, 0o770]);
    expect((await readdir(a.inbox)).sort()).toEqual(["logs", "outputs", "runs"]);
    // prune's trash is on the same file system, beside what the guest gets, out of its reach
    expect((await stat(a.inboxTrash)).dev).toBe(st.dev);
    expect((await stat(a.inboxTrash)).mode & 0o777).toBe(0o700);
    expect((await stat(a.inboxImage)).mode & 0o777).toBe(0o600);
    // idempotent: a second call changes nothing
    expect((await ensure()).action).toBe("already");
  });

  it("a setuid-root binary, a device node and a symlink planted by guest root are inert on the host", async () => {
    await ensure();
    const suid = join(a.inbox, "outputs", "rootshell");
    await copyFile("/usr/bin/id", suid);
    await chown(suid, 0, 0);
    await chmod(suid, 0o4755);
    expect((await stat(suid)).mode & 0o4000).toBe(0o4000); // the bit is there, as the guest set it
    const asUser = spawnSync(
      "setpriv",
      ["--reuid", String(UID), "--regid", String(GID), "--clear-groups", suid, "-u"],
      {
        encoding: "utf8",
      },
    );
    expect(asUser.stdout).not.toBe("0\n"); // never root
    expect(asUser.status).not.toBe(0); // noexec: it does not run at all
    const asRoot = spawnSync(suid, ["-u"], { encoding: "utf8" });
    expect(asRoot.error?.message ?? asRoot.stderr).toMatch(/EACCES|Permission denied/);
    // a device node for the host's memory: opening it fails (nodev)
    execFileSync("mknod", [join(a.inbox, "outputs", "mem"), "c", "1", "1"]);
    await expect(readFile(join(a.inbox, "outputs", "mem"))).rejects.toMatchObject({ code: "EACCES" });
    // a symlink to a host secret: host path lookups do not follow it (nosymfollow)
    await symlink("/etc/shadow", join(a.inbox, "outputs", "shadow"));
    await expect(readFile(join(a.inbox, "outputs", "shadow"))).rejects.toMatchObject({ code: "ELOOP" });
  });

  it("writes stop at the limit, also through a deleted file held open; du reports full from the file system", async () => {
    await ensure();
    const fd = openSync(join(a.inbox, "outputs", "hidden"), "w");
    await unlink(join(a.inbox, "outputs", "hidden")); // the runaway agent's trick: du walks cannot see it
    const hidden = fill(fd);
    expect(hidden.code).toBe("ENOSPC");
    expect(hidden.bytes).toBeLessThanOrEqual(64 * MiB);
    const second = openSync(join(a.inbox, "outputs", "more"), "w");
    expect(fill(second).code).toBe("ENOSPC");
    closeSync(second);
    const alloc = (await stat(a.inboxImage)).blocks * 512; // what the host's disk really holds
    expect(alloc).toBeLessThanOrEqual(64 * MiB);
    const space = await inboxSpace(host, a);
    expect(space).toMatchObject({ enforced: true, full: true });
    const du = await cli(t, ["--json", "du", "agent-a", "--check"]);
    expect(du.code).toBe(1);
    const out = JSON.parse(du.stdout) as {
      ok: boolean;
      inboxes: { full: boolean; usedBytes: number; limitBytes: number }[];
    };
    expect(out.ok).toBe(false);
    expect(out.inboxes[0]).toMatchObject({ full: true });
    expect(out.inboxes[0]!.usedBytes).toBeGreaterThan(out.inboxes[0]!.limitBytes - 2 * MiB);
    expect(du.stderr).toMatch(/agent-a's inbox is full/);
    closeSync(fd); // the deleted file's blocks come back
    const after = await cli(t, ["--json", "du", "agent-a", "--check"]);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, inboxes: [{ full: false, enforced: true }] });
  });

  it("is mounted again after an unmount (a reboot) by init, grows with resize (offline while the VM is stopped), never shrinks", async () => {
    await ensure();
    await mkdir(join(a.inbox, "outputs", "kept"));
    execFileSync("umount", [a.inbox]); // as after a reboot: neither mount is there
    execFileSync("umount", [a.inboxFs]);
    expect(await mountAt(host, a.inbox)).toBeUndefined();
    expect(await mountAllInboxes(host, paths())).toEqual(["agent-a"]);
    expect((await lstat(join(a.inbox, "outputs", "kept"))).isDirectory()).toBe(true);
    const grow = await cli(t, ["--json", "resize", "agent-a", "--quota", "96M"]);
    expect(grow.code, grow.stderr).toBe(0);
    expect(JSON.parse(grow.stdout)).toMatchObject({ action: "grown", limitBytes: 96 * MiB });
    const space = await inboxSpace(host, a);
    expect(space.sizeBytes).toBeGreaterThan(80 * MiB);
    const shrink = await cli(t, ["resize", "agent-a", "--quota", "48M"]);
    expect(shrink.code).toBe(65);
    expect(shrink.stderr).toMatch(/never shrunk/);
    expect((await cli(t, ["resize", "agent-a", "--quota", "lots"])).code).toBe(64);
    expect((await cli(t, ["resize", "ghost", "--quota", "1G"])).code).toBe(66);
  });

  it("refuses a plain inbox folder with content and a foreign mount; removal unmounts and deletes the image", async () => {
    await mkdir(join(a.inbox, "runs"), { recursive: true });
    await expect(ensure()).rejects.toThrow(/plain folder with content, not a size-limited inbox/);
    await rm(a.inbox, { recursive: true });
    await mkdir(a.inbox);
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", a.inbox]);
    await expect(ensure()).rejects.toThrow(/is a mount point, but not of/);
    execFileSync("umount", [a.inbox]);
    await ensure();
    expect(await removeInboxImage(host, a)).toBe(true);
    expect(await mountAt(host, a.inbox)).toBeUndefined();
    await expect(stat(a.inboxImage)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("prune deletes runs through the inbox's own trash (rename stays on its file system)", async () => {
    await ensure();
    for (const r of ["run-20250101-000000", "run-20250102-000000", "run-20250103-000000"])
      await makeRun(a.inbox, r);
    await pointCurrent(a.inbox, "run-20250103-000000");
    const p = await cli(t, ["--json", "prune", "agent-a", "--keep-last", "1", "--max-age", "off"]);
    expect(p.code, p.stderr).toBe(0);
    expect(await runsLeft(a.inbox), p.stdout).toEqual(["run-20250103-000000"]);
    expect(await readdir(a.inboxTrash)).toEqual([]);
  });
});

// The per-run wrapper's refusals: a clear message and exit 2 before any run, 127/126 for a bad CMD.
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SKIP, currentMetrics, listRuns, runWrapper, tempInbox } from "./run-wrapper-harness.js";

let inbox = "";
let cleanup = async () => {};
beforeEach(async () => ({ inbox, cleanup } = await tempInbox()));
afterEach(() => cleanup());

const isRoot = process.getuid?.() === 0;
/** As root, a mode bit does not stop a write: run the wrapper as nobody instead (setpriv, util-linux). */
const SETPRIV = "/usr/bin/setpriv";
const UNSHARE = "/usr/bin/unshare";
const asNobody = isRoot ? [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"] : [];

describe.skipIf(SKIP)("agentshare-run: refusals", () => {
  it("exits 2 naming the inbox when it does not exist", async () => {
    const missing = join(inbox, "not-mounted");
    const r = await runWrapper(["--inbox", missing, "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr.toString()).toContain(`inbox ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it("exits 2 when the inbox is a file", async () => {
    const file = join(inbox, "file");
    await writeFile(file, "");
    const r = await runWrapper(["--inbox", file, "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr.toString()).toContain("is not a directory");
  });

  it.skipIf(isRoot && !existsSync(SETPRIV) && !process.env.CI)(
    "exits 2 when the inbox is not writable by the wrapper's user",
    async () => {
      const ro = join(inbox, "ro");
      await mkdir(ro);
      await chmod(inbox, 0o755);
      await chmod(ro, 0o555);
      const r = await runWrapper(["--inbox", ro, "--", "true"], {}, asNobody);
      expect(r.stderr.toString()).toMatch(/inbox .*\/ro is not writable by uid \d+/);
      expect(r.code).toBe(2);
      expect(existsSync(join(ro, "runs"))).toBe(false);
    },
  );

  it.skipIf(!isRoot || (!existsSync(UNSHARE) && !process.env.CI))(
    "exits 2 when the inbox is on a read-only mount (root too)",
    async () => {
      // a private mount namespace: the read-only bind mount vanishes with it. $0 = wrapper, $2 = inbox
      const mountRo = 'mount --bind "$2" "$2" && mount -o remount,bind,ro "$2" && exec "$0" "$@"';
      const r = await runWrapper(["--inbox", inbox, "--", "true"], {}, [UNSHARE, "-m", "sh", "-c", mountRo]);
      expect(r.stderr.toString()).toContain(`inbox ${inbox} is on a read-only mount`);
      expect(r.code).toBe(2);
    },
  );

  it.skipIf(!isRoot || (!existsSync(UNSHARE) && !process.env.CI))(
    "refuses the default /mnt/inbox unless it is a mount point (an unmounted share)",
    async () => {
      // all mounts live in a private mount namespace and vanish with it; $0 = wrapper
      const script = [
        'mount -t tmpfs none /mnt && mkdir /mnt/inbox && "$0" "$@"; echo "unmounted=$?"',
        'mount -t tmpfs none /mnt/inbox && "$0" "$@" && echo "mounted=$?" && ls /mnt/inbox/runs',
      ].join("; ");
      const ns = [UNSHARE, "-m", "--propagation", "private", "sh", "-c", script];
      const r = await runWrapper(["--", "true"], { AGENTSHARE_INBOX: "" }, ns);
      expect(r.stderr.toString()).toContain("inbox /mnt/inbox is not mounted");
      expect(r.stdout.toString()).toMatch(/^unmounted=2\nmounted=0\nrun-\d{8}-\d{6}\n$/);
    },
  );

  it.each([[[]], [["--"]], [["--inbox"]], [["--bogus", "true"]]])(
    "exits 2 with the usage for arguments %j",
    async (args) => {
      const r = await runWrapper(args.includes("--inbox") ? args : ["--inbox", inbox, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.toString()).toContain("usage: agentshare-run");
      expect(existsSync(join(inbox, "runs"))).toBe(false);
    },
  );

  it("exits 2 and leaves no half-made run when current is a directory, not a symlink", async () => {
    await mkdir(join(inbox, "current"));
    const r = await runWrapper(["--inbox", inbox, "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr.toString()).toContain(`cannot re-point ${inbox}/current`);
    expect(await listRuns(inbox)).toEqual([]);
    expect((await readdir(inbox)).sort()).toEqual(["current", "runs"]);
  });

  it("exits 127 for a command that does not exist, and still writes metrics.json", async () => {
    const r = await runWrapper(["--inbox", inbox, "--", "no-such-command-xyz", "arg"]);
    expect(r.code).toBe(127);
    expect(r.stderr.toString()).toContain("no-such-command-xyz: command not found");
    const m = await currentMetrics(inbox);
    expect(m).toMatchObject({ exit_code: 127, signal: null, command: ["no-such-command-xyz", "arg"] });
    expect(m.exec_error).toContain("command not found");
    const [id] = await listRuns(inbox);
    expect(await readFile(join(inbox, "runs", id!, "stderr.log"), "utf8")).toContain("command not found");
  });

  it("exits 126 for a file that cannot be executed", async () => {
    const notExec = join(inbox, "script.sh");
    await writeFile(notExec, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    const r = await runWrapper(["--inbox", inbox, "--", notExec]);
    expect(r.code).toBe(126);
    expect((await currentMetrics(inbox)).exit_code).toBe(126);
  });
});

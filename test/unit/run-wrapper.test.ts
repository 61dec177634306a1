// The per-run wrapper's contract (docs/runs.md): layout, `current`, exit codes, metrics, bytes, env.
import { randomBytes } from "node:crypto";
import { lstat, readFile, readdir, readlink, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  RUN_NAME,
  SKIP,
  currentMetrics,
  listRuns,
  py,
  readJson,
  runWrapper,
  tempInbox,
  type RunMetrics,
} from "./run-wrapper-harness.js";

let inbox = "";
let cleanup = async () => {};
beforeEach(async () => ({ inbox, cleanup } = await tempInbox()));
afterEach(() => cleanup());

describe.skipIf(SKIP)("agentshare-run: layout and current", () => {
  it("creates runs/run-<UTC second> with logs, outputs/, trace/, run.json and metrics.json", async () => {
    const before = Date.now();
    const r = await runWrapper(["--inbox", inbox, "--", "true"]);
    expect(r.code).toBe(0);
    const [id, ...rest] = await listRuns(inbox);
    expect(rest).toEqual([]);
    const m = RUN_NAME.exec(id!);
    expect(m).not.toBeNull();
    const named = Date.parse(
      `${m![1]}${m![2]}`.replace(/^(....)(..)(..)(..)(..)(..)$/, "$1-$2-$3T$4:$5:$6Z"),
    );
    expect(named).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000); // UTC, not local time
    expect(named).toBeLessThanOrEqual(Date.now());
    const runDir = join(inbox, "runs", id!);
    const names = (await readdir(runDir)).sort();
    expect(names).toEqual([
      "agent.log",
      "metrics.json",
      "outputs",
      "run.json",
      "stderr.log",
      "stdout.log",
      "trace",
    ]);
    expect((await stat(join(runDir, "outputs"))).isDirectory()).toBe(true);
    expect((await stat(join(runDir, "trace"))).isDirectory()).toBe(true);
    const run = await readJson<Record<string, unknown>>(join(runDir, "run.json"));
    expect(run).toMatchObject({ version: 1, run_id: id, command: ["true"] });
    const metrics = await currentMetrics(inbox);
    expect(metrics.run_id).toBe(id);
    expect(metrics.start).toBe(run.start);
    // the run name is the start time's UTC second
    expect(metrics.start.replace(/[-:]/g, "").slice(0, 15)).toBe(`${m![1]}T${m![2]}`);
  });

  it("points current at the newest run with a relative link and leaves no temp link", async () => {
    await runWrapper(["--inbox", inbox, "--", "true"]);
    await runWrapper(["--inbox", inbox, "--", "true"]);
    const runs = await listRuns(inbox);
    expect(runs).toHaveLength(2);
    const target = await readlink(join(inbox, "current"));
    expect(target).toBe(`runs/${runs[1]}`);
    expect(await realpath(join(inbox, "current"))).toBe(await realpath(join(inbox, "runs", runs[1]!)));
    expect((await readdir(inbox)).sort()).toEqual(["current", "runs"]);
  });

  it("--no-current makes a run without re-pointing current (exec's runs leave the workload current)", async () => {
    await runWrapper(["--inbox", inbox, "--", "true"]);
    const [workload] = await listRuns(inbox);
    const r = await runWrapper(["--inbox", inbox, "--no-current", "--", "sh", "-c", "echo side"]);
    expect(r.code).toBe(0);
    const runs = await listRuns(inbox);
    expect(runs).toHaveLength(2);
    expect(await readlink(join(inbox, "current"))).toBe(`runs/${workload}`);
    const side = runs.find((n) => n !== workload)!;
    expect(await readFile(join(inbox, "runs", side, "stdout.log"), "utf8")).toBe("side\n");
    expect((await readdir(join(inbox, "runs", side))).includes("metrics.json")).toBe(true);
    // on an inbox without current, none is made
    await rm(join(inbox, "current"));
    await runWrapper(["--inbox", inbox, "--no-current", "--", "true"]);
    expect((await readdir(inbox)).sort()).toEqual(["runs"]);
  });

  it("uses AGENTSHARE_INBOX when --inbox is not given", async () => {
    const r = await runWrapper(["--", "true"], { AGENTSHARE_INBOX: inbox });
    expect(r.code).toBe(0);
    expect(await listRuns(inbox)).toHaveLength(1);
  });
});

describe.skipIf(SKIP)("agentshare-run: exit codes and metrics", () => {
  it.each([
    { cmd: ["true"], code: 0, signal: null },
    { cmd: ["sh", "-c", "exit 3"], code: 3, signal: null },
    { cmd: ["sh", "-c", "kill -9 $$"], code: 137, signal: 9 },
    { cmd: ["sh", "-c", "kill -TERM $$"], code: 143, signal: 15 },
  ])("passes through $cmd → $code", async ({ cmd, code, signal }) => {
    const r = await runWrapper(["--inbox", inbox, "--", ...cmd]);
    expect(r.code).toBe(code);
    const metrics = await currentMetrics(inbox);
    expect(metrics).toMatchObject({ exit_code: code, signal, command: cmd, exec_error: null });
    expect(metrics.signal_name).toBe(signal === 9 ? "SIGKILL" : signal === 15 ? "SIGTERM" : null);
  });

  it("measures CPU and wall time of a command that burns ~0.3 s of CPU", async () => {
    const burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass";
    expect((await runWrapper(["--inbox", inbox, "--", ...py(burn)])).code).toBe(0);
    const m = await currentMetrics(inbox);
    expect(m.user_cpu_s).toBeGreaterThan(0.1);
    expect(m.user_cpu_s + m.sys_cpu_s).toBeGreaterThanOrEqual(0.29);
    expect(m.duration_s).toBeGreaterThanOrEqual(0.29);
    const wall = (Date.parse(m.end) - Date.parse(m.start)) / 1000;
    expect(Math.abs(wall - m.duration_s)).toBeLessThan(0.05);
    expect(m.end).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("reports peak memory of CMD and its children: ~50 MB allocated in a grandchild", async () => {
    const alloc = ["sh", "-c", `python3 -c 'b = b"\\x01" * (50 << 20)'; true`];
    expect((await runWrapper(["--inbox", inbox, "--", ...alloc])).code).toBe(0);
    expect((await currentMetrics(inbox)).max_rss_kib).toBeGreaterThan(40_000);
    await runWrapper(["--inbox", inbox, "--", "true"]);
    const small = await currentMetrics(inbox);
    expect(small.max_rss_kib).toBeGreaterThan(0);
    expect(small.max_rss_kib).toBeLessThan(40_000);
    expect(small.user_cpu_s).toBeLessThan(0.1);
  });

  it("counts regular files under outputs/, not following symlinks", async () => {
    const big = join(inbox, "big.bin");
    await writeFile(big, randomBytes(100_000));
    const script = [
      'head -c 1000 /dev/zero > "$AGENTSHARE_OUTPUTS/a"',
      'mkdir -p "$AGENTSHARE_OUTPUTS/sub/deeper"',
      'head -c 2345 /dev/zero > "$AGENTSHARE_OUTPUTS/sub/deeper/b"',
      `ln -s ${big} "$AGENTSHARE_OUTPUTS/link"`,
      `ln -s ${inbox} "$AGENTSHARE_OUTPUTS/sub/dirlink"`,
    ].join("; ");
    expect((await runWrapper(["--inbox", inbox, "--", "sh", "-c", script])).code).toBe(0);
    expect((await currentMetrics(inbox)).outputs_bytes).toBe(3345);
    expect((await lstat(join(inbox, "current", "outputs", "link"))).isSymbolicLink()).toBe(true);
  });
});

describe.skipIf(SKIP)("agentshare-run: streams and environment", () => {
  it("copies binary stdout and stderr byte for byte to the logs and to its own stdout/stderr", async () => {
    const out = Buffer.concat([Buffer.from("a\r\nb\rc\xff\xfe\x00\n", "latin1"), randomBytes(1 << 20)]);
    const err = Buffer.concat([Buffer.from([0xc3, 0x28, 0x0d, 0x80]), randomBytes((1 << 20) + 17)]);
    await writeFile(join(inbox, "out.bin"), out);
    await writeFile(join(inbox, "err.bin"), err);
    const both = `cat ${inbox}/err.bin >&2 & cat ${inbox}/out.bin; wait`;
    const r = await runWrapper(["--inbox", inbox, "--", "sh", "-c", both]);
    expect(r.code).toBe(0);
    expect((await readFile(join(inbox, "current", "stdout.log"))).equals(out)).toBe(true);
    expect((await readFile(join(inbox, "current", "stderr.log"))).equals(err)).toBe(true);
    expect(r.stdout.equals(out)).toBe(true);
    expect(r.stderr.equals(err)).toBe(true);
  });

  it("exports the run's paths to CMD and leaves agent.log to it", async () => {
    const show =
      'printf "%s\\n" "$AGENTSHARE_RUN_ID" "$AGENTSHARE_RUN_DIR" "$AGENTSHARE_AGENT_LOG" "$AGENTSHARE_OUTPUTS"';
    const script = `${show}; echo app-line >> "$AGENTSHARE_AGENT_LOG"`;
    expect((await runWrapper(["--inbox", inbox, "--", "sh", "-c", script])).code).toBe(0);
    const [id] = await listRuns(inbox);
    const runDir = join(inbox, "runs", id!);
    const lines = (await readFile(join(runDir, "stdout.log"), "utf8")).split("\n");
    expect(lines.slice(0, 4)).toEqual([id, runDir, join(runDir, "agent.log"), join(runDir, "outputs")]);
    expect(await readFile(join(runDir, "agent.log"), "utf8")).toBe("app-line\n");
  });

  it("copies both streams to --console=DEV as well", async () => {
    const con = join(inbox, "console");
    await runWrapper([
      "--inbox",
      inbox,
      "--console=" + con,
      "--",
      "sh",
      "-c",
      "echo to-out; echo to-err >&2",
    ]);
    expect((await readFile(con, "utf8")).split("\n").sort()).toEqual(["", "to-err", "to-out"]);
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe("to-out\n");
  });

  it("keeps a metrics.json that parses as the documented schema", async () => {
    await runWrapper(["--inbox", inbox, "--", "true"]);
    const m: RunMetrics = await currentMetrics(inbox);
    expect(Object.keys(m).sort()).toEqual(
      [
        "version",
        "run_id",
        "command",
        "start",
        "end",
        "duration_s",
        "exit_code",
        "signal",
        "signal_name",
        "exec_error",
        "user_cpu_s",
        "sys_cpu_s",
        "max_rss_kib",
        "outputs_bytes",
        "persisted",
        "persist_errors",
      ].sort(),
    );
    expect([m.persisted, m.persist_errors]).toEqual([true, []]);
    await symlink("nowhere", join(inbox, "dangling")); // unrelated entries in the inbox do no harm
    expect((await runWrapper(["--inbox", inbox, "--", "true"])).code).toBe(0);
  });
});

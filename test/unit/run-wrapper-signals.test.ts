// The per-run wrapper under pressure: forwarded signals, racing starts, lingering descendants.
import { mkdir, readFile } from "node:fs/promises";
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
  startWrapper,
  tempInbox,
  type RunMetrics,
} from "./run-wrapper-harness.js";

let inbox = "";
let cleanup = async () => {};
beforeEach(async () => ({ inbox, cleanup } = await tempInbox()));
afterEach(() => cleanup());

/** A CMD that says "ready", then sleeps; with `trap`, it catches SIGTERM/SIGINT, reports and exits 0. */
const sleeper = (trap: boolean) =>
  py(
    [
      "import os, signal, sys, time",
      "def bye(n, _f):",
      "    os.write(1, b'caught %d\\n' % n); sys.exit(0)",
      trap ? "signal.signal(signal.SIGTERM, bye); signal.signal(signal.SIGINT, bye)" : "",
      "os.write(1, b'ready\\n')  # one write: print() may split the newline off",
      "time.sleep(30)",
    ].join("\n"),
  );

describe.skipIf(SKIP)("agentshare-run: signals", () => {
  it.each([
    { sig: "SIGTERM" as const, num: 15 },
    { sig: "SIGINT" as const, num: 2 },
  ])("forwards $sig to CMD, exits 128+N and still writes metrics.json", async ({ sig, num }) => {
    const w = startWrapper(["--inbox", inbox, "--", ...sleeper(false)]);
    await w.saw("ready");
    w.child.kill(sig);
    const r = await w.done;
    expect(r.code).toBe(128 + num);
    const m = await currentMetrics(inbox);
    expect(m).toMatchObject({ exit_code: 128 + num, signal: num, signal_name: sig });
    expect(m.duration_s).toBeLessThan(20);
  });

  it("delivers SIGTERM to CMD itself: a CMD that handles it decides the exit code", async () => {
    const w = startWrapper(["--inbox", inbox, "--", ...sleeper(true)]);
    await w.saw("ready");
    w.child.kill("SIGTERM");
    const r = await w.done;
    expect(r.code).toBe(0);
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe("ready\ncaught 15\n");
    expect((await currentMetrics(inbox)).signal).toBeNull();
  });

  it("does not wait for a background descendant that keeps stdout open", async () => {
    const t0 = Date.now();
    const script = "sleep 15 & echo $!; echo done";
    const r = await runWrapper(["--inbox", inbox, "--", "sh", "-c", script]);
    const lingering = Number(r.stdout.toString().split("\n")[0]);
    if (lingering > 0) process.kill(lingering, "SIGKILL");
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe(`${lingering}\ndone\n`);
  });
});

describe.skipIf(SKIP)("agentshare-run: live output", () => {
  it("makes a Python CMD's print() reach stdout.log while it runs (PYTHONUNBUFFERED)", async () => {
    const cmd = py("import time\nprint('first')\ntime.sleep(20)");
    const w = startWrapper(["--inbox", inbox, "--", ...cmd], { PYTHONUNBUFFERED: undefined });
    await w.saw("first\n"); // print() may write "first" and "\n" apart; block-buffered, this would come only at exit
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe("first\n");
    w.child.kill("SIGTERM");
    expect((await w.done).code).toBe(143);
  }, 10_000);

  it("leaves a caller's PYTHONUNBUFFERED alone", async () => {
    const show = "import os\nprint(repr(os.environ.get('PYTHONUNBUFFERED')))";
    await runWrapper(["--inbox", inbox, "--", ...py(show)], { PYTHONUNBUFFERED: "" });
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe("''\n");
  });
});

describe.skipIf(SKIP)("agentshare-run: a missing console", () => {
  it("still logs everything when started with stdout closed and stderr gone", async () => {
    const script = "echo to-out; echo to-err >&2";
    const closing = ["sh", "-c", 'exec 1>&- 2>/dev/full; exec "$0" "$@"']; // $0 = the wrapper
    const r = await runWrapper(["--inbox", inbox, "--", "sh", "-c", script], {}, closing);
    expect(r.code).toBe(0);
    expect(await readFile(join(inbox, "current", "stdout.log"), "utf8")).toBe("to-out\n");
    expect(await readFile(join(inbox, "current", "stderr.log"), "utf8")).toBe("to-err\n");
    expect((await currentMetrics(inbox)).exit_code).toBe(0);
  });
});

describe.skipIf(SKIP)("agentshare-run: run names", () => {
  it("takes -2 when the second's run dir already exists", async () => {
    const now = Date.now();
    const name = (ms: number) => `run-${new Date(ms).toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
    const taken = [0, 1, 2, 3, 4, 5].map((s) => name(now + s * 1000).replace("T", "-"));
    await mkdir(join(inbox, "runs"), { recursive: true });
    for (const t of taken) await mkdir(join(inbox, "runs", t));
    expect((await runWrapper(["--inbox", inbox, "--", "true"])).code).toBe(0);
    const fresh = (await listRuns(inbox)).filter((n) => !taken.includes(n));
    expect(fresh).toHaveLength(1);
    expect(taken.map((t) => `${t}-2`)).toContain(fresh[0]);
    expect((await currentMetrics(inbox)).run_id).toBe(fresh[0]);
  });

  it("gives six wrappers started at once six distinct dirs, numbered -2, -3 … within a second", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => runWrapper(["--inbox", inbox, "--", "true"])),
    );
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    const runs = await listRuns(inbox);
    expect(runs).toHaveLength(6);
    const bySecond = new Map<string, number[]>();
    for (const run of runs) {
      const m = RUN_NAME.exec(run);
      expect(m, run).not.toBeNull();
      const key = `${m![1]}-${m![2]}`;
      bySecond.set(key, [...(bySecond.get(key) ?? []), Number(m![3] ?? 1)]);
    }
    for (const suffixes of bySecond.values()) {
      expect(suffixes.sort((a, b) => a - b)).toEqual(suffixes.map((_, i) => i + 1));
    }
    expect(Math.max(...[...bySecond.values()].map((s) => s.length))).toBeGreaterThan(1);
    for (const run of runs) {
      const m = await readJson<RunMetrics>(join(inbox, "runs", run, "metrics.json"));
      expect(m.run_id).toBe(run);
    }
  });
});

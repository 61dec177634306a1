// `agentshare exec` as a real process against a real sshd on 127.0.0.1: exit codes and signals,
// byte-exact and separate stdout/stderr, run mode through the real agentshare-run wrapper,
// nasty argv, stdin, Ctrl-C forwarding and the time limit.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  CLI_ARGV,
  TEST_USER,
  assertSshd,
  describeWithSshd,
  ensureTestUser,
  runCli,
  startSshServer,
  type SshServer,
} from "./ssh-harness.js";

let s: SshServer;
let common: string[];
const runs = () => {
  const names = existsSync(join(s.inbox, "runs")) ? readdirSync(join(s.inbox, "runs")) : [];
  return names.filter((n) => n.startsWith("run-"));
};
const splitNul = (b: Buffer) => {
  const words = b.toString("utf8").split("\0");
  expect(words.pop()).toBe("");
  return words;
};

const NASTY = [
  "two words",
  "",
  "it's",
  `"dq"`,
  "$HOME",
  "$(id)",
  "`id`",
  "a;b|c&",
  "l1\nl2\n",
  "*",
  "~",
  "#x",
  "-n",
  "--",
  "A=b",
  "✓",
];

describeWithSshd()("agentshare exec", () => {
  beforeAll(async () => {
    assertSshd();
    ensureTestUser();
    s = await startSshServer();
    common = [
      "--state-dir",
      s.stateDir,
      "exec",
      s.agent,
      "--user",
      "root",
      "--address",
      "127.0.0.1",
      "--port",
      `${s.port}`,
    ];
  });
  afterAll(() => s?.stop());

  it("passes stdout and stderr through byte for byte and apart, and exits with the command's code", async () => {
    const a = randomBytes(2 * 1024 * 1024 + 11);
    const b = randomBytes(300_001);
    writeFileSync(join(s.dir, "a.bin"), a);
    writeFileSync(join(s.dir, "b.bin"), b);
    const script = 'cat "$1" & cat "$2" >&2; wait; exit 3';
    const r = await runCli([
      ...common,
      "--no-run",
      "--",
      "sh",
      "-c",
      script,
      "sh",
      `${s.dir}/a.bin`,
      `${s.dir}/b.bin`,
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout.equals(a)).toBe(true);
    expect(r.stderr.equals(b)).toBe(true);
    expect((await runCli([...common, "--no-run", "--", "true"])).code).toBe(0);
  });

  it("exits 128+N when the remote command is killed by signal N", async () => {
    const r = await runCli([...common, "--no-run", "--", "sh", "-c", "kill -TERM $$"]);
    expect(r.code).toBe(143);
    expect(r.stderr.toString()).toBe("");
  });

  it("runs through agentshare-run by default: a new run dir with the output, current untouched; --no-run makes none", async () => {
    const before = runs();
    const currentBefore = existsSync(join(s.inbox, "current"))
      ? readlinkSync(join(s.inbox, "current"))
      : null;
    const r = await runCli([...common, "--", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    expect(r.code).toBe(5);
    expect(r.stdout.toString()).toBe("out\n");
    expect(r.stderr.toString()).toBe("err\n");
    const added = runs().filter((n) => !before.includes(n));
    expect(added).toHaveLength(1);
    const dir = join(s.inbox, "runs", added[0]!);
    expect(readFileSync(join(dir, "stdout.log"), "utf8")).toBe("out\n");
    expect(readFileSync(join(dir, "stderr.log"), "utf8")).toBe("err\n");
    expect(JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")).exit_code).toBe(5);
    // an exec is not the agent's workload: current stays where it was (prune keeps what it points to)
    const currentAfter = existsSync(join(s.inbox, "current")) ? readlinkSync(join(s.inbox, "current")) : null;
    expect(currentAfter).toBe(currentBefore);
    const plain = await runCli([...common, "--no-run", "--", "echo", "no run"]);
    expect(plain.stdout.toString()).toBe("no run\n");
    expect(runs()).toHaveLength(before.length + 1);
  });

  it("hands nasty arguments over exactly, with and without the wrapper", async () => {
    for (const mode of [["--no-run"], []]) {
      const r = await runCli([...common, ...mode, "--", "printf", "%s\\0", ...NASTY]);
      expect(r.code).toBe(0);
      expect(splitNul(r.stdout)).toEqual(NASTY);
    }
  });

  it("pipes stdin only with --stdin", async () => {
    const data = randomBytes(150_000);
    const piped = await runCli([...common, "--no-run", "--stdin", "--", "cat"], { input: data });
    expect(piped.code).toBe(0);
    expect(piped.stdout.equals(data)).toBe(true);
    const closed = await runCli([...common, "--no-run", "--", "sh", "-c", "cat; echo eof"], {
      input: "not for you",
    });
    expect(closed.stdout.toString()).toBe("eof\n");
  });

  it("passes Ctrl-C (SIGINT) on to the remote command", async () => {
    // as a non-root user: sshd serves "signal" requests only in privilege-separated sessions
    const user = common.map((a) => (a === "root" ? TEST_USER : a));
    const script = "trap 'echo got-int; exit 9' INT; echo ready; while :; do sleep 0.1; done";
    const child = execa(process.execPath, [...CLI_ARGV, ...user, "--no-run", "--", "sh", "-c", script], {
      reject: false,
      stdin: "ignore",
      stripFinalNewline: false,
    });
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("ready\n")) resolve();
      }),
    );
    child.kill("SIGINT");
    const r = await child;
    expect(r.stdout).toBe("ready\ngot-int\n");
    expect(r.exitCode).toBe(9);
  });

  it("ends the session with exit 141 when the reader of our stdout goes away (`| head`)", async () => {
    const cli = [
      process.execPath,
      ...CLI_ARGV,
      ...common,
      "--no-run",
      "--",
      "sh",
      "-c",
      "yes | head -c 500000000",
    ];
    const line = `${cli.map((a) => `'${a}'`).join(" ")} | head -c 5; echo " rc=\${PIPESTATUS[0]}"`;
    const r = await execa("bash", ["-c", line], { reject: false, timeout: 30_000 });
    expect(r.stdout).toBe("y\ny\ny rc=141");
  });

  it("--timeout ends a command that runs too long with exit 69", async () => {
    const t0 = Date.now();
    const user = common.map((a) => (a === "root" ? TEST_USER : a)); // so sshd passes the TERM on
    const r = await runCli([...user, "--no-run", "--timeout", "1", "--", "sleep", "21.37"]);
    expect(r.code).toBe(69);
    expect(r.stderr.toString()).toMatch(/did not finish within 1 s/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // the TERM reached it: nothing of it is left running
    expect(spawnSync("pgrep", ["-f", "sleep 21.37"]).status).toBe(1);
  });
});

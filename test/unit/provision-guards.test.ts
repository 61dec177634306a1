// Input that must be refused before anything is created, through the built CLI: numeric options,
// tmpSize, the health port, the config file (FIFO, directory, 50 MB) and the base image. Then a
// real provision against a fake `virsh` on PATH (libvirt itself is the vm tier's business): the
// audit log says how far it got, and a guest that reports it cannot bind its health port stops
// the wait at once.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";
import { auditLines, cli, ensureBuilt, tempTree, type Tree } from "./prune-harness.js";

let t: Tree;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree("{}\n");
});
afterEach(() => t.cleanup());

/** Nothing of agent `name` exists: no state folder, no inbox. */
async function nothingCreated(name = "a1"): Promise<void> {
  expect(existsSync(join(t.stateDir, "agents", name))).toBe(false);
  expect(existsSync(join(t.root, `${name}-inbox`))).toBe(false);
}

/** Runs the CLI, failing the test (instead of hanging it) when it does not end within `ms`. */
async function cliWithin(ms: number, args: string[], env: Record<string, string> = {}) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`agentshare ${args.join(" ")} still running after ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([cli(t, args, env), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("numeric options take numbers only (64, naming the option)", () => {
  it.each([
    [["du", "--top", "abc"], "--top"],
    [["du", "--top", "-2"], "--top"],
    [["destroy", "a1", "--timeout", "abc"], "--timeout"],
    [["provision", "a1", "--dry-run", "--timeout", "soon"], "--timeout"],
    [["prune", "a1", "--lock-wait", "abc"], "--lock-wait"],
  ])("%j", async (args, flag) => {
    const r = await cli(t, args);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`agentshare: ${flag} "${args.at(-1)}" must be a`);
    expect(r.stderr).toContain("hint:");
    await nothingCreated();
  });
});

describe("provision --dry-run refuses bad values before writing anything", () => {
  it("--tmp-size 99999999g (78): bounded by the VM's memory", async () => {
    const r = await cli(t, ["provision", "a1", "--dry-run", "--tmp-size", "99999999g"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("tmpSize: must be at most 4 × memory (4096m for 1024 MiB)");
    await nothingCreated();
  });

  it.each([
    ["22", "the guest's SSH server"],
    ["80", "below 1024"],
    ["5355", "LLMNR"],
  ])("--health-port %s (78): %s", async (port, why) => {
    const r = await cli(t, ["provision", "a1", "--dry-run", "--health-port", port]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`command line: healthPort: ${port} cannot be used: it is`);
    expect(r.stderr).toContain(why);
    await nothingCreated();
  });

  it("--image that is not a qcow2 image (65): /etc/passwd, a directory, a FIFO", async () => {
    const fifo = join(t.base, "disk.fifo");
    execFileSync("mkfifo", [fifo]);
    for (const [image, text] of [
      ["/etc/passwd", "image /etc/passwd is not a qcow2 disk image"],
      [t.base, `image ${t.base} is not a regular file (a directory)`],
      [fifo, `image ${fifo} is not a regular file`],
    ] as const) {
      const r = await cliWithin(20_000, ["provision", "a1", "--dry-run", "--image", image]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toContain(text);
      expect(r.stderr).toContain("hint: give a qcow2 image");
      await nothingCreated();
    }
  });

  it("accepts a file that starts like a qcow2 image", async () => {
    const img = join(t.base, "base.qcow2");
    await writeFile(img, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(508)]));
    const r = await cli(t, ["provision", "a1", "--dry-run", "--image", img]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("--config that is not a small regular file (78)", () => {
  it("a FIFO is refused at once instead of hanging", async () => {
    const fifo = join(t.base, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    const r = await cliWithin(20_000, ["--config", fifo, "provision", "a1", "--dry-run"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`config file ${fifo} is a FIFO, not a regular file`);
    expect(r.stderr).toContain("hint: pass --config the path of a YAML file");
    await nothingCreated();
  });

  it("a directory gets a message, not a raw EISDIR", async () => {
    const r = await cli(t, ["--config", t.base, "provision", "a1", "--dry-run"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`config file ${t.base} is a directory, not a regular file`);
    expect(r.stderr).not.toContain("EISDIR");
    await nothingCreated();
  });

  it("a 50 MB file is refused by its size", async () => {
    const big = join(t.base, "big.yaml");
    await writeFile(big, "memory: 512\n");
    await truncate(big, 50 * 1024 * 1024);
    const r = await cli(t, ["--config", big, "provision", "a1", "--dry-run"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      `config file ${big} is 52428800 bytes, over the limit of 1048576 bytes (1 MiB)`,
    );
    await nothingCreated();
  });
});

const FAKE_VIRSH = `#!/bin/sh
# A fake virsh for provision: a domain's state in $FAKE_DIR/state, every call in $FAKE_DIR/calls.
echo "$*" >> "$FAKE_DIR/calls"
shift 2
case "$1" in
version) printf 'Compiled against library: libvirt 11.0.0\\nUsing library: libvirt 11.0.0\\nUsing API: QEMU 11.0.0\\nRunning hypervisor: QEMU 9.2.0\\nRunning against daemon: 11.0.0\\n' ;;
domstate) [ -f "$FAKE_DIR/state" ] || { echo "error: failed to get domain '$3'" >&2; exit 1; }; cat "$FAKE_DIR/state" ;;
define) echo "shut off (unknown)" > "$FAKE_DIR/state"; echo "Domain 'x' defined" ;;
start)
  echo "running (booted)" > "$FAKE_DIR/state"
  if [ -n "$FAKE_GUEST_SAYS" ]; then
    iid=$(sed -n 's/^instance-id: //p' "$FAKE_META")
    printf '%s\\n%s\\n' "$iid" "$FAKE_GUEST_SAYS" > "$FAKE_INBOX/.agentshare-failed"
  fi
  echo "Domain 'x' started" ;;
*) echo "error: the fake virsh does not do $1" >&2; exit 1 ;;
esac
`;

describeWithTools(["genisoimage"])("a real provision against a fake virsh", () => {
  let env: Record<string, string> = {};
  let fake = "";
  let kernel = "";
  beforeEach(async () => {
    if (!isRoot()) throw new Error("this test runs as root (the inbox is chowned to the agent's uid)");
    assertTools(["genisoimage"]);
    await chmod(t.base, 0o711); // QEMU must be able to traverse to the state dir: provision checks it
    fake = join(t.base, "fake");
    await mkdir(join(fake, "bin"), { recursive: true });
    await writeFile(join(fake, "bin", "virsh"), FAKE_VIRSH, { mode: 0o755 });
    await mkdir(join(t.root, "global-ro"));
    kernel = join(t.base, "vmlinuz");
    await writeFile(kernel, "not really a kernel");
    env = {
      PATH: `${join(fake, "bin")}:${process.env.PATH ?? ""}`,
      FAKE_DIR: fake,
      FAKE_INBOX: join(t.root, "a1-inbox"),
      FAKE_META: join(t.stateDir, "agents", "a1", "meta-data"),
    };
  });
  const provision = (...extra: string[]) => [
    "provision",
    "a1",
    "--no-image",
    "--kernel",
    kernel,
    "--domain-type",
    "qemu",
    ...extra,
  ];
  const calls = async () => (await readFile(join(fake, "calls"), "utf8").catch(() => "")).trim().split("\n");

  it("--image /etc/passwd fails before libvirt is asked anything, creating nothing", async () => {
    const r = await cli(t, ["provision", "a1", "--image", "/etc/passwd"], env);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("image /etc/passwd is not a qcow2 disk image");
    expect(existsSync(join(fake, "calls"))).toBe(false);
    await nothingCreated();
    expect(await readdir(t.stateDir)).toEqual([]);
  });

  it("the audit log says defined, then failed at the wait, for a guest that never gets ready", async () => {
    const r = await cli(t, provision("--timeout", "1"), env);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("the guest did not report ready within 1 s");
    const audit = (await auditLines(t.stateDir)).filter((l) => l.verb === "provision");
    expect(audit.map((l) => l.result)).toEqual(["defined", "failed"]);
    expect(audit[1]).toMatchObject({ stage: "wait", error: expect.stringContaining("did not report ready") });
    expect(audit[0]?.instanceId).toBe(audit[1]?.instanceId);
    expect(await calls()).toContain("-c qemu:///system start --domain a1");
  });

  it("--no-start records only defined", async () => {
    expect((await cli(t, provision("--no-start"), env)).code).toBe(0);
    expect((await auditLines(t.stateDir)).map((l) => l.result)).toEqual(["defined"]);
  });

  it("stops waiting at once when the guest reports its health server cannot listen", async () => {
    const why = "the health server cannot listen on 0.0.0.0:8118: listen EADDRINUSE: address already in use";
    const t0 = Date.now();
    const r = await cli(t, provision("--timeout", "600"), { ...env, FAKE_GUEST_SAYS: why });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`agentshare: the guest reports it cannot get ready: ${why}`);
    expect(r.stderr).toContain("hint: fix what it names");
    const audit = (await auditLines(t.stateDir)).filter((l) => l.verb === "provision");
    expect(audit.map((l) => l.result)).toEqual(["defined", "failed"]);
  });

  it("a failure marker of an earlier provision (another instance id) is ignored", async () => {
    expect((await cli(t, provision("--timeout", "1", "--no-start"), env)).code).toBe(0); // makes the inbox
    await writeFile(join(t.root, "a1-inbox", ".agentshare-failed"), "iid-a1-old\nold failure\n");
    const r = await cli(t, provision("--timeout", "1"), env);
    expect(r.stderr).toContain("did not report ready within 1 s");
  });
});

// Boots a built image under the real libvirt with our cloud-init builder's user-data and
// reports what happened: time to the readiness marker, and a diagnostic report the guest
// writes into its inbox (cloud-init status, mounts, uid/gid, boot times). Used by
// image-boot.bench.ts; domains are named imgtest-* and always removed.
import { randomBytes, randomUUID } from "node:crypto";
import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { localRunner, runChecked } from "../../src/adapters/runner.js";
import { readGuestFile } from "../../src/adapters/fs.js";
import { buildMetaData } from "../../src/core/cloud-init.js";
import { userData, type Variant } from "./image-boot-spec.js";
import { buildDomainXml } from "../../src/core/domain-xml.js";
import type { ImageFiles } from "../../src/core/image-meta.js";
import { IMAGE_CMDLINE } from "../../src/core/image-recipe.js";
import { READY_MARKER } from "../../src/core/paths.js";

const URI = "qemu:///system";
const run = localRunner;
const virsh = (...args: string[]) => runChecked(run, "virsh", ["-c", URI, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The guest-side report script (a real shell script beside this file). */
const DIAG_SCRIPT = fileURLToPath(new URL("./image-boot-diag.sh", import.meta.url));

export interface BootOptions {
  image: ImageFiles;
  /** "trimmed": the image as built; "stock": Debian's module lists restored through user-data. */
  variant: Variant;
  vcpus: number;
  memoryMiB: number;
  timeoutMs: number;
  /** Copy console.log, user-data and the diag report here. */
  keepDir?: string;
}

export interface BootResult {
  variant: string;
  defineMs: number;
  startMs: number;
  /** `virsh start` issued → marker with this instance id in the inbox. */
  markerMs: number;
  /** `virsh start` issued → the diag report (cloud-init done, boot finished). */
  diagMs: number | undefined;
  diag: string;
  console: string;
  network: string | null;
}

async function networkName(): Promise<string | null> {
  const r = await run("virsh", ["-c", URI, "net-info", "default"]);
  return r.exitCode === 0 && /^Active:\s+yes/m.test(r.stdout) ? "default" : null;
}

async function waitFor(
  path: string,
  ok: (s: string) => boolean,
  t0: number,
  timeoutMs: number,
): Promise<number | undefined> {
  while (Date.now() - t0 < timeoutMs) {
    const b = await readGuestFile(path, 1 << 20);
    if (b && ok(b.toString("utf8"))) return Date.now() - t0;
    await sleep(200);
  }
  return undefined;
}

interface Tree {
  dir: string;
  global: string;
  globalRo: string;
  inbox: string;
}

async function makeTree(): Promise<Tree> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "imgtest-"));
  await fsp.chmod(dir, 0o755); // libvirt's qemu user must reach the overlay, seed and log
  const t = { dir, global: join(dir, "global"), globalRo: join(dir, "global-ro"), inbox: join(dir, "inbox") };
  for (const d of [t.global, t.globalRo, t.inbox]) await fsp.mkdir(d, { mode: 0o755 });
  await fsp.writeFile(join(t.global, "hello.txt"), "from the host\n");
  await fsp.chown(t.inbox, 1000, 1000);
  await runChecked(run, "mount", ["--bind", t.global, t.globalRo]);
  await runChecked(run, "mount", ["-o", "remount,bind,ro", t.globalRo]);
  return t;
}

async function prepare(o: BootOptions, t: Tree, name: string, instanceId: string) {
  const overlay = join(t.dir, "disk.qcow2");
  await runChecked(run, "qemu-img", [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-F",
    "qcow2",
    "-b",
    o.image.qcow2,
    overlay,
    "4G",
  ]);
  const diag = await fsp.readFile(DIAG_SCRIPT, "utf8");
  const ud = userData(instanceId, randomBytes(32).toString("hex"), o.variant, diag);
  await fsp.writeFile(join(t.dir, "user-data"), ud);
  await fsp.writeFile(join(t.dir, "meta-data"), buildMetaData({ name, instanceId }));
  const seed = join(t.dir, "seed.iso");
  await runChecked(run, "genisoimage", [
    "-quiet",
    "-output",
    seed,
    "-volid",
    "cidata",
    "-joliet",
    "-rock",
    join(t.dir, "user-data"),
    join(t.dir, "meta-data"),
  ]);
  const network = await networkName();
  const xml = buildDomainXml({
    name,
    uuid: randomUUID(),
    description: "agentshare image boot test",
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus,
    domainType: "qemu",
    diskPath: overlay,
    kernel: { path: o.image.vmlinuz, initrd: o.image.initrd, cmdline: IMAGE_CMDLINE },
    seedIso: seed,
    globalDir: t.globalRo,
    inboxDir: t.inbox,
    readonlyGlobal: false,
    network,
    consoleLog: join(t.dir, "console.log"),
    metadata: { specHash: "0".repeat(64), createdAt: new Date().toISOString(), command: "", instanceId },
  });
  await fsp.writeFile(join(t.dir, "domain.xml"), xml);
  return network;
}

async function cleanup(name: string, t: Tree, keepDir?: string): Promise<void> {
  await run("virsh", ["-c", URI, "destroy", name]);
  await run("virsh", ["-c", URI, "undefine", name]);
  if (keepDir) {
    await fsp.mkdir(keepDir, { recursive: true });
    for (const f of ["console.log", "user-data", "domain.xml", "inbox/.imgtest-diag"])
      await fsp.copyFile(join(t.dir, f), join(keepDir, f.replace("inbox/", ""))).catch(() => undefined);
  }
  await run("umount", [t.globalRo]);
  await fsp.rm(t.dir, { recursive: true, force: true });
}

/** Boots once and returns the timings and the guest's diagnostic report. */
export async function bootImage(o: BootOptions): Promise<BootResult> {
  const name = `imgtest-${o.variant}-${randomBytes(3).toString("hex")}`;
  const instanceId = `iid-${randomUUID()}`;
  const t = await makeTree();
  try {
    const network = await prepare(o, t, name, instanceId);
    let t0 = Date.now();
    await virsh("define", join(t.dir, "domain.xml"));
    const defineMs = Date.now() - t0;
    t0 = Date.now();
    await virsh("start", name);
    const startMs = Date.now() - t0;
    const markerMs = await waitFor(
      join(t.inbox, READY_MARKER),
      (s) => s.split("\n")[0] === instanceId,
      t0,
      o.timeoutMs,
    );
    if (markerMs === undefined)
      throw new Error(
        `${name}: no readiness marker within ${o.timeoutMs} ms; console: ${join(t.dir, "console.log")}`,
      );
    const diagMs = await waitFor(join(t.inbox, ".imgtest-diag"), () => true, t0, o.timeoutMs + 60_000);
    const diag = (await readGuestFile(join(t.inbox, ".imgtest-diag"), 1 << 20))?.toString("utf8") ?? "";
    const console = await fsp.readFile(join(t.dir, "console.log"), "utf8").catch(() => "");
    return { variant: o.variant, defineMs, startMs, markerMs, diagMs, diag, console, network };
  } finally {
    await cleanup(name, t, o.keepDir);
  }
}

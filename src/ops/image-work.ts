// The build's work dir (a dot-folder in the images dir, removed at the end or by the next
// build) and the changes made to the debootstrap tree before it becomes a disk.
import { dirname, join } from "node:path";
import { runChecked } from "../adapters/runner.js";
import type { Host } from "../host/host.js";
import { parseDpkgStatus, pickKernelRelease } from "../core/image-meta.js";
import type { ImageRecipe } from "../core/image-recipe.js";
import { ToolError } from "../errors.js";

const WORK_RE = /^\.(.+)\.build-(\d+)$/;

/** The work dir of this process's build of `name`. */
export const workDirFor = (imagesDir: string, name: string) =>
  join(imagesDir, `.${name}.build-${process.pid}`);

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded); kept for its unit test. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => Boolean(m))
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Unmounts what an interrupted debootstrap left mounted inside `dir` (proc, sys), then deletes it. */
export async function removeWorkDir(host: Host, dir: string): Promise<void> {
  const entries = await host.mountinfo().catch(() => []);
  const inside = entries
    .map((e) => e.mountPoint)
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of inside) await runChecked(host.run, "umount", ["-l", m]);
  await host.rm(dir, { recursive: true, force: true });
}

/** Deletes work dirs of builds whose process is gone; returns their names. */
export async function removeStaleWorkDirs(host: Host, imagesDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const { name: e } of await host.readdir(imagesDir)) {
    const m = WORK_RE.exec(e);
    if (!m || alive(Number(m[2]))) continue;
    await removeWorkDir(host, join(imagesDir, e));
    removed.push(e);
  }
  return removed;
}

async function removeMatching(host: Host, root: string, pattern: string): Promise<void> {
  if (!pattern.includes("*")) return host.rm(join(root, pattern), { force: true, recursive: true });
  const dir = dirname(pattern);
  const [prefix = "", suffix = ""] = pattern.slice(dir.length + 1).split("*");
  const entries = await host.readdir(join(root, dir)).catch(() => []);
  for (const { name: e } of entries)
    if (e.startsWith(prefix) && e.endsWith(suffix))
      await host.rm(join(root, dir, e), { force: true, recursive: true });
}

/** Applies the recipe's files, links and removals to the tree; every linked unit must exist. */
export async function customiseTree(host: Host, root: string, recipe: ImageRecipe): Promise<void> {
  for (const f of recipe.files) {
    const p = join(root, f.path);
    await host.mkdir(dirname(p), { recursive: true, mode: 0o755 });
    await host.rm(p, { force: true }); // may be a symlink (e.g. resolv.conf-style) left by a package
    await host.writeFile(p, f.content, f.mode);
  }
  for (const l of recipe.links) {
    if (l.target !== "/dev/null" && !(await host.stat(join(root, l.target)).catch(() => undefined)))
      throw new ToolError(`the image tree has no ${l.target} (wanted by ${l.path})`, {
        hint: "debootstrap did not install the package providing it; check the package list",
      });
    const p = join(root, l.path);
    await host.mkdir(dirname(p), { recursive: true, mode: 0o755 });
    await host.rm(p, { force: true });
    await host.symlink(l.target, p);
  }
  for (const r of recipe.remove) await removeMatching(host, root, r);
}

export interface KernelFiles {
  release: string;
  vmlinuz: string;
  initrd: string;
}

/** Finds the tree's newest kernel and initrd (in /boot); a ToolError when there is none. */
export async function findKernel(host: Host, root: string): Promise<KernelFiles> {
  const boot = join(root, "boot");
  const release = pickKernelRelease((await host.readdir(boot).catch(() => [])).map((e) => e.name));
  if (!release)
    throw new ToolError(`no vmlinuz-*/initrd.img-* pair in ${boot}`, {
      hint: "the kernel package or initramfs-tools did not install; see debootstrap's log",
    });
  return { release, vmlinuz: join(boot, `vmlinuz-${release}`), initrd: join(boot, `initrd.img-${release}`) };
}

/** Installed versions of the kernel, cloud-init and nodejs in the tree. */
export async function readVersions(
  host: Host,
  root: string,
  kernelRelease: string,
): Promise<Record<string, string>> {
  const status = await host.readText(join(root, "var/lib/dpkg/status"));
  const names = [
    `linux-image-${kernelRelease}`,
    "linux-image-cloud-amd64",
    "cloud-init",
    "nodejs",
    "systemd",
  ];
  return parseDpkgStatus(status, names);
}

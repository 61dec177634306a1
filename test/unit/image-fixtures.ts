// Helpers of the image tests: a fake but complete image set (real files, real sha256) and the
// CLI run from source as a real process.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { imageFiles, type ImageMeta } from "../../src/core/image-meta.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES = join(REPO, "test", "fixtures", "apt");

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Writes NAME.{qcow2,vmlinuz,initrd.img,json} with distinct contents into `dir`; returns the metadata. */
export async function writeFakeSet(
  dir: string,
  name: string,
  recipeKey: string,
  seed = "x",
): Promise<ImageMeta> {
  await mkdir(dir, { recursive: true });
  const f = imageFiles(dir, name);
  const body = { qcow2: `qcow2-${seed}`.repeat(1000), vmlinuz: `kernel-${seed}`, initrd: `initrd-${seed}` };
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) await writeFile(f[k], body[k]);
  const meta: ImageMeta = {
    name,
    builtAt: "2026-11-22T06:43:00.000Z",
    suite: "bookworm",
    mirror: "http://deb.debian.org/debian",
    recipeKey,
    cmdline: "root=/dev/vda rw console=ttyS0",
    kernelRelease: "6.1.0-50-cloud-amd64",
    packages: { "cloud-init": "22.4.2-1+deb12u4", nodejs: "18.20.4+dfsg-1~deb12u2" },
    sizes: {
      qcow2: body.qcow2.length,
      virtual: 2 * 1024 ** 3,
      vmlinuz: body.vmlinuz.length,
      initrd: body.initrd.length,
    },
    sha256: { qcow2: sha(body.qcow2), vmlinuz: sha(body.vmlinuz), initrd: sha(body.initrd) },
    stages: { debootstrap: 80 },
  };
  await writeFile(f.meta, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/** Runs `agentshare ARGS` from source (node --import tsx) and returns its exit code and output. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, ["--import", "tsx", join(REPO, "src/cli/main.ts"), ...args], {
    reject: false,
    cwd: REPO,
    env: { ...env, AGENTSHARE_CONFIG: "/nonexistent/agentshare.yaml" },
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

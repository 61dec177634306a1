// A fresh image build, stage by stage, inside the work dir: debootstrap → customise →
// kernel extract → mkfs (no loop mount) → qcow2 convert → checksums. Returns the metadata of
// the staged set; build.ts installs it under the final names.
import { join } from "node:path";
import { findBuildTools, loadAptMirror, runDebootstrap } from "../adapters/debootstrap.js";
import { convertToQcow2, makeExt4 } from "../adapters/image-disk.js";
import type { ImageFiles, ImageMeta } from "../core/image-meta.js";
import { IMAGE_CMDLINE, type ImageRecipe } from "../core/image-recipe.js";
import { ConfigError, ToolError } from "../errors.js";
import type { OpContext } from "./context.js";
import type { BuildImageOptions } from "./image-build.js";
import { sha256File } from "./image-set.js";
import type { Stages } from "./image-stages.js";
import { customiseTree, findKernel, readVersions } from "./image-work.js";

/** What one fresh build works with. */
export interface FreshBuild {
  o: BuildImageOptions;
  recipe: ImageRecipe;
  key: string;
  work: string;
  staged: ImageFiles;
  stages: Stages;
}

async function resolveMirror(ctx: OpContext, o: BuildImageOptions, suite: string): Promise<string> {
  if (o.mirror) return o.mirror.replace(/\/+$/, "");
  const m = await loadAptMirror(ctx.host, suite);
  if (m) return m;
  throw new ConfigError(
    `no Debian mirror for ${suite} main in /etc/apt/sources.list or /etc/apt/sources.list.d/`,
    [],
    {
      hint: "pass --mirror http://deb.debian.org/debian (or your local mirror)",
    },
  );
}

/** Builds the set into `staged` (root only; needs debootstrap, e2fsprogs, qemu-utils). */
export async function buildFresh(ctx: OpContext, b: FreshBuild): Promise<ImageMeta> {
  if (process.getuid?.() !== 0)
    throw new ToolError("building an image needs root (debootstrap installs packages in a chroot)", {
      hint: "run it as root: sudo agentshare image build",
    });
  const tools = await findBuildTools(ctx.host);
  const mirror = await resolveMirror(ctx, b.o, b.recipe.suite);
  const root = join(b.work, "root");
  const { recipe, stages, staged } = b;
  const spec = { suite: recipe.suite, variant: recipe.variant, packages: recipe.packages, dir: root, mirror };
  await stages.run("debootstrap", () => runDebootstrap(ctx.host, tools.debootstrap ?? "debootstrap", spec));
  await stages.run("customise", () => customiseTree(ctx.host, root, recipe));
  const kernel = await stages.run("kernel", async () => {
    const k = await findKernel(ctx.host, root);
    await ctx.host.copyFile(k.vmlinuz, staged.vmlinuz);
    await ctx.host.copyFile(k.initrd, staged.initrd);
    return { release: k.release, packages: await readVersions(ctx.host, root, k.release) };
  });
  const raw = join(b.work, "disk.raw");
  await stages.run("mkfs", async () => {
    await ctx.host.rm(raw, { force: true });
    await ctx.host.createSparse(raw, recipe.sizeBytes, 0o600);
    await makeExt4(ctx.run, tools["mkfs.ext4"] ?? "mkfs.ext4", root, raw, "rootfs");
    await ctx.host.rm(root, { recursive: true, force: true });
  });
  const virtual = await stages.run("convert", () =>
    convertToQcow2(ctx.run, tools["qemu-img"] ?? "qemu-img", raw, staged.qcow2),
  );
  await ctx.host.rm(raw, { force: true });
  return stages.run("checksum", () => describeSet(ctx, b, { mirror, kernel, virtual }));
}

async function describeSet(
  ctx: OpContext,
  b: FreshBuild,
  x: { mirror: string; kernel: { release: string; packages: Record<string, string> }; virtual: number },
): Promise<ImageMeta> {
  const size = async (p: string) => (await ctx.host.stat(p))?.size ?? 0;
  const { staged } = b;
  return {
    name: b.o.name,
    builtAt: ctx.clock().toISOString(),
    suite: b.recipe.suite,
    mirror: x.mirror,
    recipeKey: b.key,
    cmdline: IMAGE_CMDLINE,
    kernelRelease: x.kernel.release,
    packages: x.kernel.packages,
    sizes: {
      qcow2: await size(staged.qcow2),
      virtual: x.virtual,
      vmlinuz: await size(staged.vmlinuz),
      initrd: await size(staged.initrd),
    },
    sha256: {
      qcow2: await sha256File(ctx.host, staged.qcow2),
      vmlinuz: await sha256File(ctx.host, staged.vmlinuz),
      initrd: await sha256File(ctx.host, staged.initrd),
    },
    stages: b.stages.done(),
  };
}

// `agentshare image build|list|rm`: the offline Debian 12 guest image (see docs/images.md).
import type { Command } from "commander";
import { formatBytes } from "../core/units.js";
import { DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SIZE } from "../core/image-recipe.js";
import { DEFAULT_IMAGE_CACHE } from "../core/paths.js";
import type { BuildImageResult } from "../ops/image-build.js";
import type { ImageListEntry } from "../ops/image.js";
import { act, cliOf } from "./context.js";

interface BuildFlags {
  rebuild: boolean;
  mirror?: string;
  size: string;
  cacheDir: string;
  cache: boolean;
}

function buildText(r: BuildImageResult): string {
  const m = r.meta;
  const head =
    r.source === "existing"
      ? `image ${r.name} already built at ${m.builtAt} ${r.outdated ? "from an older recipe: pass --rebuild to update it" : "(pass --rebuild to build it again)"}`
      : `image ${r.name} ${r.source === "cache" ? "copied from the cache" : "built"}`;
  const stages = Object.entries(r.stages).map(([s, t]) => `  ${s.padEnd(12)} ${t.toFixed(1)} s`);
  return [
    head,
    ...stages,
    `  disk    ${r.files.qcow2} (${formatBytes(m.sizes.qcow2)}, virtual ${formatBytes(m.sizes.virtual)})`,
    `  kernel  ${r.files.vmlinuz} + ${r.files.initrd} (${m.kernelRelease}, cmdline "${m.cmdline}")`,
    `  packages ${Object.entries(m.packages)
      .map(([p, v]) => `${p} ${v}`)
      .join(", ")}`,
    ...(r.cacheEntry ? [`  cached in ${r.cacheEntry}`] : []),
    ...(r.source === "existing" ? [] : [`total ${r.totalSeconds.toFixed(1)} s`]),
  ].join("\n");
}

function listText(list: readonly ImageListEntry[], dir: string): string {
  if (!list.length) return `no images in ${dir}; build one with \`agentshare image build\``;
  const rows = list.map(
    (i) => `${i.name.padEnd(16)} ${formatBytes(i.size).padEnd(10)} ${i.builtAt.padEnd(26)} ${i.kernel}`,
  );
  return [`${"NAME".padEnd(16)} ${"SIZE".padEnd(10)} ${"BUILT".padEnd(26)} KERNEL`, ...rows].join("\n");
}

function registerBuild(image: Command): void {
  image
    .command("build [name]")
    .description(
      `build a Debian 12 cloud-init guest image offline with debootstrap (default name ${DEFAULT_IMAGE_NAME}; needs root)`,
    )
    .option("--rebuild", "build again even when the image (or a cached copy) exists", false)
    .option("--mirror <url>", "Debian mirror (default: the one in /etc/apt/sources.list.d)")
    .option("--size <size>", "size of the image's file system", DEFAULT_IMAGE_SIZE)
    .option(
      "--cache-dir <dir>",
      "reuse and store finished images here, by recipe hash (env AGENTSHARE_IMAGE_CACHE)",
      process.env.AGENTSHARE_IMAGE_CACHE ?? DEFAULT_IMAGE_CACHE,
    )
    .option("--no-cache", "neither read nor write the image cache")
    .action(
      act(async (name: string | undefined, f: BuildFlags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.buildImage({
          name: name ?? DEFAULT_IMAGE_NAME,
          rebuild: f.rebuild,
          mirror: f.mirror,
          size: f.size,
          cacheDir: f.cache ? f.cacheDir : null,
        });
        out.result(r, () => buildText(r));
      }),
    );
}

/** Registers `image build|list|rm`. */
export function registerImage(program: Command): void {
  const image = program.command("image").description("guest base images: build, list, rm");
  registerBuild(image);
  image
    .command("list")
    .description("list the built images (name, size, build time, kernel)")
    .action(
      act(async (_o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const list = await api.listImages();
        out.result(list, () => listText(list, api.paths.imagesDir));
      }),
    );
  image
    .command("rm <name>")
    .description("remove a built image (its qcow2, kernel, initrd and metadata)")
    .action(
      act(async (name: string, _o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.removeImage(name);
        out.result(r, () => `removed image ${name}: ${r.removed.join(", ")}`);
      }),
    );
}

// The cloud-init NoCloud seed: an ISO 9660 image labelled `cidata` holding user-data, meta-data
// and optionally network-config, made with genisoimage (xorriso -as mkisofs when only that exists).
import { dirname, join } from "node:path";
import { ToolError, toolError } from "../errors.js";
import { tempNameFor } from "./fs.js";
import type { Host } from "../host/host.js";
import type { Runner } from "./runner.js";

export const SEED_VOLUME_ID = "cidata";

export interface SeedFiles {
  userData: string;
  metaData: string;
  networkConfig?: string;
}

export type IsoTool = "genisoimage" | "xorriso";

/** Arguments for genisoimage (or `xorriso -as mkisofs`): Joliet + Rock Ridge, label cidata. */
export function seedIsoArgv(tool: IsoTool, output: string, files: readonly string[]): string[] {
  const common = ["-output", output, "-volid", SEED_VOLUME_ID, "-joliet", "-rock", ...files];
  return tool === "xorriso" ? ["-as", "mkisofs", "-quiet", ...common] : ["-quiet", ...common];
}

export interface IsoInfo {
  volumeId: string;
  joliet: boolean;
  rockRidge: boolean;
}

/** Parses `isoinfo -d -i ISO` (genisoimage package): volume id, Joliet and Rock Ridge presence. */
export function parseIsoInfo(stdout: string): IsoInfo {
  return {
    volumeId: /^Volume id:\s*(.*?)\s*$/m.exec(stdout)?.[1] ?? "",
    joliet: /^Joliet with UCS level \d+ found/m.test(stdout),
    rockRidge: /^Rock Ridge signatures version \d+ found/m.test(stdout),
  };
}

/** genisoimage when present, else xorriso, else undefined. */
export async function findSeedIsoTool(run: Runner): Promise<IsoTool | undefined> {
  for (const tool of ["genisoimage", "xorriso"] as const) {
    const r = await run("sh", ["-c", `command -v ${tool}`]);
    if (r.exitCode === 0) return tool;
  }
  return undefined;
}

/** Like findSeedIsoTool, but a ToolError naming the package when neither tool is installed. */
export async function findIsoTool(run: Runner): Promise<IsoTool> {
  const tool = await findSeedIsoTool(run);
  if (tool) return tool;
  throw new ToolError("neither genisoimage nor xorriso is installed: cannot write the cloud-init seed ISO", {
    hint: "apt-get install genisoimage (or run bash scripts/host-setup.sh as root)",
  });
}

/**
 * Writes the seed ISO to `output` atomically (temp name beside it, then rename), mode 0600 by
 * default since user-data may carry a token. Files and tool both on `host`.
 */
export async function writeSeedIso(
  host: Host,
  seed: SeedFiles,
  output: string,
  mode = 0o600,
): Promise<IsoTool> {
  const run = host.run;
  const tool = await findIsoTool(run);
  // the tool runs on the host, so its inputs go there too
  const dir = await host.mkdtemp(join(host.tmpDir, "agentshare-seed-"));
  const tmp = tempNameFor(output);
  try {
    const names: Array<[string, string | undefined]> = [
      ["user-data", seed.userData],
      ["meta-data", seed.metaData],
      ["network-config", seed.networkConfig],
    ];
    const files: string[] = [];
    for (const [name, content] of names) {
      if (content === undefined) continue;
      await host.writeFile(join(dir, name), content, 0o600);
      files.push(join(dir, name));
    }
    const argv = seedIsoArgv(tool, tmp, files);
    const r = await run(tool, argv);
    if (r.exitCode !== 0) throw toolError([tool, ...argv], r);
    await host.chmod(tmp, mode);
    await host.fsync(tmp);
    await host.rename(tmp, output);
    await host.fsync(dirname(output));
    return tool;
  } finally {
    await host.rm(tmp, { force: true });
    await host.rm(dir, { recursive: true, force: true });
  }
}

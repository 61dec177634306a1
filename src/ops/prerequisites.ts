// What provision needs before it changes anything, each failure with the exact fix.
import { constants, promises as fsp } from "node:fs";
import { isReadOnlyBind } from "../adapters/mount.js";
import { findSeedIsoTool } from "../adapters/seed-iso.js";
import { getLibvirtVersion } from "../adapters/virsh.js";
import { findVirtiofsd } from "../adapters/virtiofsd.js";
import { ConfigError, NotFoundError, ToolError } from "../errors.js";
import type { Context } from "../cli/context.js";
import type { PreparedAgent } from "./agent-spec.js";

const SETUP_HINT = "run `bash scripts/host-setup.sh` as root, then `agentshare doctor`";

export interface Prerequisites {
  libvirtVersion: number;
  /** Checks that depend on the agent's config: base image, kernel, initrd. */
  checkAgent: (p: PreparedAgent) => Promise<void>;
}

async function readable(path: string): Promise<boolean> {
  return fsp.access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

/** Host-wide checks: tree initialised, libvirtd answering, virtiofsd, seed ISO tool, global read-only. */
export async function checkProvisionPrerequisites(ctx: Context): Promise<Prerequisites> {
  if (!(await readable(ctx.paths.globalRo)))
    throw new ConfigError(
      `the host tree at ${ctx.paths.root} is not initialised (no ${ctx.paths.globalRo})`,
      [],
      {
        hint: `run \`agentshare init${ctx.opts.root !== "/srv/agentshare" ? ` --root ${ctx.opts.root}` : ""}\` as root first`,
      },
    );
  const version = await getLibvirtVersion(ctx.run, ctx.opts.connect);
  if (!(await findVirtiofsd())) throw new ToolError("virtiofsd is not installed", { hint: SETUP_HINT });
  if (!(await findSeedIsoTool(ctx.run)))
    throw new ToolError("neither genisoimage nor xorriso is installed (needed for the cloud-init seed)", {
      hint: SETUP_HINT,
    });
  const libvirtReadonly = version.libvirt >= 11_000_000;
  if (!libvirtReadonly && !(await isReadOnlyBind(ctx.paths.globalRo)))
    throw new ConfigError(
      `${ctx.paths.globalRo} is not a read-only mount, and libvirt ${version.libvirtText} cannot make virtiofs read-only`,
      [],
      {
        hint: "run `agentshare init` as root: it bind-mounts global-ro read-only (a guest could otherwise write into global)",
      },
    );
  return {
    libvirtVersion: version.libvirt,
    checkAgent: async (p) => {
      const c = p.inputs.config;
      if (p.plan.imagePath && !(await readable(p.plan.imagePath)))
        throw new NotFoundError(`base image ${p.plan.imagePath} does not exist`, {
          hint: c.image?.startsWith("/")
            ? "check the image path in the config"
            : `build it: agentshare image build ${c.image}`,
        });
      for (const [field, path] of [
        ["kernel", c.kernel],
        ["initrd", c.initrd],
      ] as const)
        if (path && !(await readable(path)))
          throw new NotFoundError(`${field} ${path} does not exist or is not readable`, {
            hint: `fix ${field} in the config or flags`,
          });
    },
  };
}

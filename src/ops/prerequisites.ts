// What provision needs before it changes anything, each failure with the exact fix.
import { getLibvirtVersion } from "../adapters/virsh.js";
import { ConfigError, NotFoundError, ToolError } from "../errors.js";
import type { OpContext } from "./context.js";
import type { PreparedAgent } from "./agent-spec.js";
import {
  checkGlobalReadOnly,
  checkSeedIsoTool,
  checkStateDirTraversable,
  checkTreeInitialised,
  checkVirtiofsd,
  type CheckResult,
} from "./host-checks.js";

export interface Prerequisites {
  libvirtVersion: number;
  /** Checks that depend on the agent's config: base image, kernel, initrd. */
  checkAgent: (p: PreparedAgent) => Promise<void>;
}

/** A failed host check as the error provision stops with: the check's words, its fix as the hint. */
function failure(r: CheckResult, kind: typeof ConfigError | typeof ToolError): Error {
  return kind === ToolError
    ? new ToolError(r.detail, { hint: r.fix })
    : new ConfigError(r.detail, [], { hint: r.fix });
}

/**
 * Host-wide checks, the same functions doctor runs (host-checks.ts): tree initialised, libvirtd
 * state dir reachable by QEMU, libvirtd answering, virtiofsd, seed ISO tool, global read-only.
 */
export async function checkProvisionPrerequisites(ctx: OpContext): Promise<Prerequisites> {
  const tree = await checkTreeInitialised(ctx);
  if (tree.status === "fail") throw failure(tree, ConfigError);
  const reach = await checkStateDirTraversable(ctx);
  if (reach.status === "fail") throw failure(reach, ConfigError);
  const version = await getLibvirtVersion(ctx.run, ctx.opts.connect);
  const checks: Array<[() => Promise<CheckResult>, typeof ConfigError | typeof ToolError]> = [
    [() => checkVirtiofsd(ctx), ToolError],
    [() => checkSeedIsoTool(ctx), ToolError],
    [() => checkGlobalReadOnly(ctx, version), ConfigError],
  ];
  for (const [check, kind] of checks) {
    const r = await check();
    if (r.status === "fail") throw failure(r, kind);
  }
  return {
    libvirtVersion: version.libvirt,
    checkAgent: async (p) => {
      const c = p.inputs.config;
      if (p.plan.imagePath && !(await ctx.host.access(p.plan.imagePath, "read")))
        throw new NotFoundError(`base image ${p.plan.imagePath} does not exist`, {
          hint: c.image?.startsWith("/")
            ? "check the image path in the config"
            : `build it: agentshare image build ${c.image}`,
        });
      for (const [field, path] of [
        ["kernel", c.kernel],
        ["initrd", c.initrd],
      ] as const)
        if (path && !(await ctx.host.access(path, "read")))
          throw new NotFoundError(`${field} ${path} does not exist or is not readable`, {
            hint: `fix ${field} in the config or flags`,
          });
    },
  };
}

// The host checks that both `doctor` (as a table) and `provision` (before it changes anything)
// run: one function per fact, each returning pass / warn / fail with the fix, so the two never
// disagree about what the host needs.
import { dirname } from "node:path";
import { isReadOnlyBind } from "../adapters/mount.js";
import { findSeedIsoTool } from "../adapters/seed-iso.js";
import type { LibvirtVersion } from "../adapters/virsh.js";
import { findVirtiofsd } from "../adapters/virtiofsd.js";
import type { OpContext } from "./context.js";

export type CheckStatus = "pass" | "warn" | "fail";
export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export const SETUP = "bash scripts/host-setup.sh (as root)";
export const ok = (check: string, detail: string): CheckResult => ({ check, status: "pass", detail });
export const bad = (status: CheckStatus, check: string, detail: string, fix: string): CheckResult => ({
  check,
  status,
  detail,
  fix,
});

/** init has run: global-ro exists and can be read. */
export async function checkTreeInitialised(ctx: OpContext): Promise<CheckResult> {
  const readable = await ctx.host.access(ctx.paths.globalRo, "read");
  if (readable) return ok("host tree", `${ctx.paths.root} is initialised`);
  const root = ctx.opts.root !== "/srv/agentshare" ? ` --root ${ctx.opts.root}` : "";
  return bad(
    "fail",
    "host tree",
    `the host tree at ${ctx.paths.root} is not initialised (no ${ctx.paths.globalRo})`,
    `agentshare init${root} (as root)`,
  );
}

export async function checkVirtiofsd(ctx: OpContext): Promise<CheckResult> {
  const path = await findVirtiofsd(ctx.run);
  return path ? ok("virtiofsd", path) : bad("fail", "virtiofsd", "virtiofsd is not installed", SETUP);
}

export async function checkSeedIsoTool(ctx: OpContext): Promise<CheckResult> {
  const tool = await findSeedIsoTool(ctx.run);
  return tool
    ? ok("seed ISO tool", tool)
    : bad(
        "fail",
        "seed ISO tool",
        "neither genisoimage nor xorriso is installed (needed for the cloud-init seed)",
        SETUP,
      );
}

/** global-ro is a read-only bind of global, or libvirt (≥ 11.0) enforces <readonly/> on virtiofs. */
export async function checkGlobalReadOnly(
  ctx: OpContext,
  v: LibvirtVersion | undefined,
): Promise<CheckResult> {
  if (await isReadOnlyBind(ctx.host, ctx.paths.globalRo, { source: ctx.paths.global }).catch(() => false))
    return ok("global read-only", `${ctx.paths.globalRo} is a read-only bind mount of ${ctx.paths.global}`);
  if (v && v.libvirt >= 11_000_000)
    return ok("global read-only", `libvirt ${v.libvirtText} enforces <readonly/> on virtiofs`);
  return bad(
    "fail",
    "global read-only",
    `${ctx.paths.globalRo} is not a read-only bind mount of ${ctx.paths.global}, and libvirt ${v?.libvirtText ?? "(not answering)"} cannot make virtiofs read-only: the global share would be UNPROTECTED (guest root can remount it writable)`,
    "agentshare init (as root, without --no-mount): it bind-mounts global-ro read-only",
  );
}

/**
 * QEMU runs as another user (libvirt-qemu) and opens each agent's seed ISO and disk under
 * <state-dir>/agents: every folder from / down to it must be searchable by others (o+x), or
 * `virsh start` fails with "Permission denied" on seed.iso after everything is defined.
 * Folders that do not exist yet are made 0711 by provision.
 */
export async function checkStateDirTraversable(ctx: OpContext): Promise<CheckResult> {
  const shut: string[] = [];
  for (let dir = ctx.paths.agentsDir; ; dir = dirname(dir)) {
    const st = await ctx.host.stat(dir).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) shut.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  if (!shut.length)
    return ok(
      "state dir traversal",
      `QEMU can reach ${ctx.paths.agentsDir} (every folder on the way is o+x)`,
    );
  return bad(
    "fail",
    "state dir traversal",
    `QEMU (another user) cannot reach the agents' seed and disk under ${ctx.paths.agentsDir}: ${shut.join(", ")} ${shut.length > 1 ? "are" : "is"} not searchable by others`,
    `chmod o+x ${shut.join(" ")} (or pick a --state-dir outside it)`,
  );
}

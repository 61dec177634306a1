// `agentshare doctor`: every host prerequisite as pass / warn / fail, each failure with its fix.
// A `fail` is something provision needs; a `warn` works but is slow, unsafe or degraded.
import { probeKvm } from "../adapters/kvm.js";
import { getDomCapabilities, getLibvirtVersion, getNetInfo, type LibvirtVersion } from "../adapters/virsh.js";
import { resolveDomainType } from "../core/domain-type.js";
import { INBOX_SAFE_OPTIONS } from "../adapters/inbox-fs.js";
import { agentPaths } from "../core/paths.js";
import { formatBytes } from "../core/units.js";
import { provisionedAgentNames } from "./agent-name.js";
import { inboxSpace, type InboxSpace } from "./inbox.js";
import type { OpContext } from "./context.js";
import {
  bad,
  checkGlobalReadOnly,
  checkSeedIsoTool,
  checkStateDirTraversable,
  checkTreeInitialised,
  checkVirtiofsd,
  ok,
  SETUP,
  type CheckResult,
} from "./host-checks.js";

export type { CheckResult, CheckStatus } from "./host-checks.js";

async function freeBytes(ctx: OpContext, path: string): Promise<number | undefined> {
  const s = await ctx.host.statfs(path).catch(() => undefined);
  return s?.availBytes;
}

async function kvmChecks(ctx: OpContext): Promise<CheckResult[]> {
  const probe = await probeKvm(ctx.host);
  const dt = resolveDomainType("auto", probe);
  const out = [
    dt.type === "kvm"
      ? ok("kvm", dt.reason)
      : bad("warn", "kvm", dt.reason, "guests run under TCG (slower); set domainType: qemu to silence this"),
  ];
  const st = await ctx.host.stat("/dev/kvm").catch(() => undefined);
  if (st && (st.mode & 0o060) !== 0o060)
    out.push(
      bad(
        "warn",
        "/dev/kvm permissions",
        `mode ${(st.mode & 0o777).toString(8)}: libvirt re-probes QEMU on every call (each define takes 70-100 s)`,
        "chgrp kvm /dev/kvm; chmod 660 /dev/kvm (host-setup does this)",
      ),
    );
  return out;
}

async function libvirtChecks(ctx: OpContext, v: LibvirtVersion): Promise<CheckResult[]> {
  const out: CheckResult[] = [
    ok(
      "libvirtd",
      `libvirt ${v.libvirtText}, ${v.hypervisorText ?? "no hypervisor answered"} (${ctx.opts.connect})`,
    ),
  ];
  const caps = await getDomCapabilities(ctx.run, ctx.opts.connect, "qemu").catch((e: Error) => e);
  if (caps instanceof Error) return [...out, bad("fail", "domcapabilities", caps.message, SETUP)];
  out.push(
    caps.memfd
      ? ok("memfd memory", "memfd shared memory backing supported")
      : bad(
          "fail",
          "memfd memory",
          "memfd memory backing not supported: virtiofs cannot work",
          "upgrade QEMU/libvirt",
        ),
  );
  out.push(
    caps.virtiofs
      ? ok("virtiofs driver", "virtiofs filesystem driver supported")
      : bad("fail", "virtiofs driver", "libvirt offers no virtiofs driver", "upgrade libvirt (≥ 6.2)"),
  );
  const net = await getNetInfo(ctx.run, ctx.opts.connect, "default").catch(() => undefined);
  out.push(
    net?.active
      ? ok("network default", "libvirt network `default` is active")
      : bad(
          "warn",
          "network default",
          "libvirt network `default` is not active: agents get no address (attach and exec need one)",
          `${SETUP}; it needs dnsmasq-base`,
        ),
  );
  return out;
}

async function toolChecks(ctx: OpContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  out.push(await checkVirtiofsd(ctx), await checkSeedIsoTool(ctx));
  const qi = await ctx.run("qemu-img", ["--version"]).catch(() => undefined);
  out.push(
    qi?.exitCode === 0
      ? ok("qemu-img", qi.stdout.split("\n")[0] ?? "")
      : bad("fail", "qemu-img", "not found", SETUP),
  );
  return out;
}

async function diskChecks(ctx: OpContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const [what, path] of [
    ["root", ctx.paths.root],
    ["state dir", ctx.paths.stateDir],
  ] as const) {
    const exists = await ctx.host.access(path, "exists");
    if (!exists) {
      out.push(bad("fail", `${what} tree`, `${path} does not exist`, "agentshare init"));
      continue;
    }
    const free = await freeBytes(ctx, path);
    const low = free !== undefined && free < 5 * 1024 ** 3;
    out.push(
      low
        ? bad(
            "warn",
            `free disk (${what})`,
            `${formatBytes(free)} free in ${path}`,
            "free some space: agentshare prune, agentshare du",
          )
        : ok(`free disk (${what})`, `${free === undefined ? "?" : formatBytes(free)} free in ${path}`),
    );
  }
  return out;
}

/**
 * Every provisioned agent's inbox must be its own file system, mounted nosuid,nodev,noexec,nosymfollow:
 * otherwise guest root can plant a setuid-root binary for host users, or fill the host's disk.
 * Also warns when the limits together exceed the free space of the file system holding the images.
 */
async function inboxChecks(ctx: OpContext): Promise<CheckResult[]> {
  const names = await provisionedAgentNames(ctx.host, ctx.paths.agentsDir).catch(() => [] as string[]);
  if (!names.length) return [];
  const out: CheckResult[] = [];
  let committed = 0;
  for (const name of names) {
    const a = agentPaths(ctx.paths, name);
    const space = await inboxSpace(ctx.host, a).catch((e: Error): InboxSpace => ({
      enforced: false,
      full: false,
      problem: e.message,
    }));
    if (!space.enforced || space.problem)
      out.push(bad("fail", `inbox ${name}`, space.problem ?? "not enforced", "agentshare init (as root)"));
    else if (space.full)
      out.push(
        bad(
          "warn",
          `inbox ${name}`,
          `full (${formatBytes(space.usedBytes ?? 0)} of ${formatBytes(space.sizeBytes ?? 0)})`,
          `agentshare prune ${name}, or agentshare resize ${name} --quota SIZE`,
        ),
      );
    committed += Math.max(0, (space.sizeBytes ?? 0) - (space.usedBytes ?? 0));
  }
  if (!out.length)
    out.push(
      ok(
        "inbox limits",
        `${names.length} inboxes, each its own file system mounted ${INBOX_SAFE_OPTIONS.join(",")}`,
      ),
    );
  const free = await freeBytes(ctx, ctx.paths.inboxesDir);
  if (free !== undefined && committed > free)
    out.push(
      bad(
        "warn",
        "inbox space",
        `the inboxes may still grow by ${formatBytes(committed)}, but only ${formatBytes(free)} is free in ${ctx.paths.inboxesDir}`,
        "free space on the host, or give agents smaller inboxQuota",
      ),
    );
  return out;
}

/** Runs every check; never throws for a failed check (that is what the table is for). */
export async function runDoctor(ctx: OpContext): Promise<{ ok: boolean; checks: CheckResult[] }> {
  const version = await getLibvirtVersion(ctx.run, ctx.opts.connect).catch((e: Error) => e);
  const checks: CheckResult[] = [];
  if (version instanceof Error)
    checks.push(
      bad("fail", "libvirtd", version.message.split("\n")[0] ?? "", `${SETUP}; or check --connect`),
    );
  else checks.push(...(await libvirtChecks(ctx, version)));
  checks.push(...(await kvmChecks(ctx)));
  checks.push(...(await toolChecks(ctx)));
  checks.push(await checkTreeInitialised(ctx));
  checks.push(await checkGlobalReadOnly(ctx, version instanceof Error ? undefined : version));
  checks.push(await checkStateDirTraversable(ctx));
  checks.push(...(await diskChecks(ctx)));
  checks.push(...(await inboxChecks(ctx)));
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

// `agentshare provision NAME`: validate → plan → (dry run: write the documents and stop).
import type { Context } from "../cli/context.js";
import { UsageError } from "../errors.js";
import { prepareAgent } from "./agent-spec.js";
import { writeDryRun } from "./provision-files.js";

export interface ProvisionOptions {
  name: string;
  profile?: string;
  flags: Record<string, unknown>;
  dryRun: boolean;
  start: boolean;
  wait: boolean;
  timeoutMs: number;
  recreate: boolean;
}

export interface ProvisionResult {
  name: string;
  action: "dry-run" | "created" | "unchanged" | "recreated";
  dryRun: boolean;
  domainType: "kvm" | "qemu";
  domainTypeReason: string;
  files: { domainXml: string; userData: string; metaData: string };
  summary: string;
}

/** Provisions one agent. Dry run: writes domain.xml, user-data and meta-data and touches nothing else. */
export async function provision(ctx: Context, opts: ProvisionOptions): Promise<ProvisionResult> {
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0)
    throw new UsageError("--timeout must be a number of seconds greater than 0");
  if (!opts.dryRun) throw new UsageError("only --dry-run is available in this build");
  const prepared = await prepareAgent(ctx, { name: opts.name, profile: opts.profile, flags: opts.flags, libvirtVersion: 0 });
  const files = await writeDryRun(ctx.paths.agentsDir, prepared);
  return {
    name: opts.name,
    action: "dry-run",
    dryRun: true,
    domainType: prepared.inputs.domainType,
    domainTypeReason: prepared.domainTypeReason,
    files: { domainXml: files.domainXml, userData: files.userData, metaData: files.metaData },
    summary: [
      `dry run for ${opts.name} (profile ${prepared.profile}, domain type ${prepared.inputs.domainType}: ${prepared.domainTypeReason})`,
      `  ${files.domainXml}`,
      `  ${files.userData}`,
      `  ${files.metaData}`,
    ].join("\n"),
  };
}

// `agentshare provision NAME`: validate (name, config, base image: nothing touched, not even
// libvirt) → (dry run: write the documents and stop) → check prerequisites → inbox → documents,
// token, seed ISO, overlay disk → define → spec.json → start → wait. The audit log says how far
// it got: "defined", then "ready", "started" (--no-wait) or "failed" with the error.
// Idempotent: same spec → no-op; changed spec → refused unless --recreate. A provision killed at
// any point converges when run again: spec.json is written only after `virsh define`, and a
// domain without it is ours and half-made (checked by its agentshare metadata), so it is redone.
import type { OpContext } from "./context.js";
import { writeAudit } from "../adapters/audit.js";
import { UsageError } from "../errors.js";
import { loadAgentConfig, prepareAgent, type PreparedAgent } from "./agent-spec.js";
import type { LoadedConfig } from "./config-load.js";
import { withAgentLock } from "./agent-lock.js";
import { checkProvisionPrerequisites, type Prerequisites } from "./prerequisites.js";
import { writeDryRun, readStoredSpec } from "./provision-files.js";
import { applyProvision, existingAgentAction, type ApplyStages } from "./provision-apply.js";
import { startAndWait } from "./provision-start.js";

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
  inbox: string;
  state?: string;
  ready?: boolean;
  timings?: Partial<Record<ApplyStages | "start" | "wait", number>>;
  summary: string;
}

function dryRunSummary(p: PreparedAgent, files: ProvisionResult["files"]): string {
  return [
    `dry run for ${p.inputs.name} (profile ${p.profile}, domain type ${p.inputs.domainType}: ${p.domainTypeReason})`,
    `  ${files.domainXml}`,
    `  ${files.userData}`,
    `  ${files.metaData}`,
  ].join("\n");
}

/** Provisions one agent (see the file comment for the contract). */
export async function provision(ctx: OpContext, opts: ProvisionOptions): Promise<ProvisionResult> {
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0)
    throw new UsageError("--timeout must be a number of seconds greater than 0");
  const spec = { name: opts.name, profile: opts.profile, flags: opts.flags };
  if (opts.dryRun) {
    const p = await prepareAgent(ctx, { ...spec, libvirtVersion: 0 });
    const w = await writeDryRun(ctx.host, ctx.paths.agentsDir, p);
    const files = { domainXml: w.domainXml, userData: w.userData, metaData: w.metaData };
    return { ...baseResult(p, "dry-run", files), dryRun: true, summary: dryRunSummary(p, files) };
  }
  // Bad input, then a missing prerequisite, fail here, before any change on disk.
  const loaded = await loadAgentConfig(ctx, spec);
  const pre = await checkProvisionPrerequisites(ctx);
  // One provision, start, stop or destroy of this agent at a time: a second provision waits,
  // then finds what the first made (same spec: "unchanged").
  return withAgentLock(ctx, opts.name, () => provisionLocked(ctx, opts, loaded, pre));
}

async function provisionLocked(
  ctx: OpContext,
  opts: ProvisionOptions,
  loaded: LoadedConfig,
  pre: Prerequisites,
): Promise<ProvisionResult> {
  const spec = { name: opts.name, profile: opts.profile, flags: opts.flags };
  const p = await prepareAgent(ctx, { ...spec, libvirtVersion: pre.libvirtVersion }, loaded);
  await pre.checkAgent(p);
  const stored = await readStoredSpec(ctx.host, p.inputs.agent.spec);
  const action = await existingAgentAction(ctx, p, stored, opts.recreate);
  const files = {
    domainXml: p.inputs.agent.domainXml,
    userData: p.inputs.agent.userData,
    metaData: p.inputs.agent.metaData,
  };
  if (action === "unchanged") {
    const r = opts.start ? await startAndWait(ctx, stored!, opts) : {};
    const result = { ...baseResult(p, "unchanged", files), ...r };
    return {
      ...result,
      summary: `${opts.name} already exists with the same spec: nothing to change${r.state ? ` (${r.state})` : ""}`,
    };
  }
  const audit = (result: string, extra: Record<string, unknown> = {}) =>
    writeAudit(
      ctx.host,
      ctx.paths.auditLog,
      [{ verb: "provision", agent: opts.name, result, instanceId: p.inputs.instanceId, ...extra }],
      ctx.clock,
    );
  const timings = await failsAudited(audit, "define", () => applyProvision(ctx, p, action === "recreate"));
  await audit("defined", { specHash: p.plan.specHash, inbox: p.inputs.agent.inbox });
  const started = opts.start
    ? await failsAudited(audit, opts.wait ? "wait" : "start", async () =>
        startAndWait(ctx, (await readStoredSpec(ctx.host, p.inputs.agent.spec))!, opts),
      )
    : {};
  if (opts.start) await audit(started.ready ? "ready" : "started");
  const result = {
    ...baseResult(p, action === "recreate" ? "recreated" : "created", files),
    ...started,
    timings: { ...timings, ...started.timings },
  };
  return { ...result, summary: provisionSummary(result) };
}

/** Runs one stage; when it throws, records `result: "failed"` with the stage and the error, then rethrows. */
async function failsAudited<T>(
  audit: (result: string, extra: Record<string, unknown>) => Promise<void>,
  stage: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await audit("failed", { stage, error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}

function baseResult(p: PreparedAgent, action: ProvisionResult["action"], files: ProvisionResult["files"]) {
  return {
    name: p.inputs.name,
    action,
    dryRun: false,
    domainType: p.inputs.domainType,
    domainTypeReason: p.domainTypeReason,
    files,
    inbox: p.inputs.agent.inbox,
  };
}

function provisionSummary(r: Omit<ProvisionResult, "summary">): string {
  const t = r.timings ?? {};
  const stages = Object.entries(t)
    .map(([k, v]) => `${k} ${Number(v) < 1000 ? `${v}ms` : `${(Number(v) / 1000).toFixed(1)}s`}`)
    .join(", ");
  return [
    `${r.name}: ${r.action} (${r.domainType}; ${r.domainTypeReason})${r.state ? `, ${r.state}` : ""}${r.ready ? ", ready" : ""}`,
    `  inbox: ${r.inbox}`,
    stages ? `  time: ${stages}` : "",
    r.ready ? `  next: agentshare attach -c ${r.name}   (or: agentshare status ${r.name})` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

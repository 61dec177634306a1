// Audit records of the file verbs (promote, collect, prune), written to <state-dir>/audit.jsonl.
import { promises as fsp } from "node:fs";
import { appendAudit, type AuditRecord } from "../adapters/audit.js";
import type { Context } from "../cli/context.js";

/** Appends one audit line, creating the state dir (0700) when it does not exist yet. */
export async function record(ctx: Context, rec: AuditRecord): Promise<void> {
  await fsp.mkdir(ctx.paths.stateDir, { recursive: true, mode: 0o700 });
  await appendAudit(ctx.paths.auditLog, rec, ctx.clock);
}

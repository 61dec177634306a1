// Audit records of the file verbs (promote, collect, prune), written to <state-dir>/audit.jsonl.
import { appendAudit, type AuditRecord } from "../adapters/audit.js";
import { ensureStateDir } from "../adapters/fs.js";
import type { Context } from "../cli/context.js";

/** Appends one audit line, creating the state dir when it does not exist yet. */
export async function record(ctx: Context, rec: AuditRecord): Promise<void> {
  await ensureStateDir(ctx.paths.stateDir);
  await appendAudit(ctx.paths.auditLog, rec, ctx.clock);
}

// Audit records of the file verbs (promote, collect, prune), written to <state-dir>/audit.jsonl.
import { writeAudit, type AuditRecord } from "../adapters/audit.js";
import type { OpContext } from "./context.js";

/**
 * Opens the audit log for appending (creating it, and the state dir, when missing) and closes it:
 * a verb calls this before it publishes anything, so a log it may not write (not root) stops it
 * with nothing changed instead of after the change, unrecorded.
 */
export async function checkAuditWritable(ctx: OpContext): Promise<void> {
  await ctx.host.ensureStateDir(ctx.paths.stateDir);
  await ctx.host.appendLines(ctx.paths.auditLog, [], 0o600);
}

/** Appends one audit line, creating the state dir when it does not exist yet. */
export async function record(ctx: OpContext, rec: AuditRecord): Promise<void> {
  await ctx.host.ensureStateDir(ctx.paths.stateDir);
  await writeAudit(ctx.host, ctx.paths.auditLog, [rec], ctx.clock);
}

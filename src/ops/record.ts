// Audit records of the file verbs (promote, collect, prune), written to <state-dir>/audit.jsonl.
import { constants, promises as fsp } from "node:fs";
import { appendAudit, type AuditRecord } from "../adapters/audit.js";
import { ensureStateDir } from "../adapters/fs.js";
import type { OpContext } from "./context.js";

/**
 * Opens the audit log for appending (creating it, and the state dir, when missing) and closes it:
 * a verb calls this before it publishes anything, so a log it may not write (not root) stops it
 * with nothing changed instead of after the change, unrecorded.
 */
export async function checkAuditWritable(ctx: OpContext): Promise<void> {
  await ensureStateDir(ctx.paths.stateDir);
  const fh = await fsp.open(
    ctx.paths.auditLog,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
    0o600,
  );
  await fh.close();
}

/** Appends one audit line, creating the state dir when it does not exist yet. */
export async function record(ctx: OpContext, rec: AuditRecord): Promise<void> {
  await ensureStateDir(ctx.paths.stateDir);
  await appendAudit(ctx.paths.auditLog, rec, ctx.clock);
}

// The audit log: <state-dir>/audit.jsonl, one JSON object per line, appended (O_APPEND),
// never rewritten. Every verb that changes shared data or VMs records itself here.
import { constants, promises as fsp } from "node:fs";

export interface AuditRecord {
  verb: string;
  agent?: string;
  result: "ok" | "error" | string;
  [key: string]: unknown;
}

/** Appends one line; `time` is added from the clock. A single write(2) under 4 KiB keeps lines whole. */
export async function appendAudit(
  auditLog: string,
  record: AuditRecord,
  clock: () => Date = () => new Date(),
): Promise<void> {
  const line = `${JSON.stringify({ time: clock().toISOString(), ...record })}\n`;
  const fh = await fsp.open(auditLog, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}

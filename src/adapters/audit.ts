// The audit log: <state-dir>/audit.jsonl, one JSON object per line, appended (O_APPEND),
// never rewritten. Every verb that changes shared data or VMs records itself here.
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { Host } from "../host/host.js";

export interface AuditRecord {
  verb: string;
  agent?: string;
  result: "ok" | "error" | string;
  [key: string]: unknown;
}

/** Lines are grouped into writes of at most this many bytes (a longer line is written alone). */
export const AUDIT_WRITE_BYTES = 64 * 1024;

const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;

/** The line for one record: `time` from the clock first, then the record's own fields. */
export const buildAuditLine = (record: AuditRecord, now: Date): string =>
  `${JSON.stringify({ time: now.toISOString(), ...record })}\n`;

/** Writes all of `buf`, resuming after a short write (only on a full disk or a signal). */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
}

/**
 * Appends one line per record, in order, with a single open (O_APPEND, created 0600). Lines
 * are grouped into writes that end on a line boundary, so each line goes out whole inside
 * one write(2). With O_APPEND, Linux moves to the end of a regular file and writes under the
 * inode lock (ext4, xfs, tmpfs), so another appender's lines land between two groups, never
 * inside a line; the PIPE_BUF limit is a rule for pipes, not needed here. Only a short write
 * (full disk, signal) could split a line, where the rest follows in the next write. `time`
 * is read from the clock for each record.
 */
export async function appendAuditLines(
  auditLog: string,
  records: readonly AuditRecord[],
  clock: () => Date = () => new Date(),
): Promise<void> {
  if (!records.length) return;
  await appendLinesLocal(
    auditLog,
    records.map((r) => buildAuditLine(r, clock())),
    0o600,
  );
}

/**
 * The local host's appendLines: whole lines, grouped into writes (see appendAuditLines). With no
 * lines it only opens (creating) and closes: the check that the file may be appended to.
 */
export async function appendLinesLocal(path: string, lines: readonly string[], mode: number): Promise<void> {
  const fh = await fsp.open(path, OPEN_FLAGS, mode);
  try {
    let group: Buffer[] = [];
    let size = 0;
    for (const text of lines) {
      const line = Buffer.from(text);
      if (size > 0 && size + line.length > AUDIT_WRITE_BYTES) {
        await writeAll(fh, Buffer.concat(group, size));
        group = [];
        size = 0;
      }
      group.push(line);
      size += line.length;
    }
    if (size) await writeAll(fh, Buffer.concat(group, size));
  } finally {
    await fh.close();
  }
}

/** Appends one line; `time` is added from the clock (see appendAuditLines). */
export async function appendAudit(
  auditLog: string,
  record: AuditRecord,
  clock: () => Date = () => new Date(),
): Promise<void> {
  await appendAuditLines(auditLog, [record], clock);
}

/** Appends the records' lines through a host (ops use this one: the log is on the VM host). */
export async function writeAudit(
  host: Pick<Host, "appendLines">,
  auditLog: string,
  records: readonly AuditRecord[],
  clock: () => Date = () => new Date(),
): Promise<void> {
  if (!records.length) return;
  await host.appendLines(
    auditLog,
    records.map((r) => buildAuditLine(r, clock())),
    0o600,
  );
}

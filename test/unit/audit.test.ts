// The audit log adapter on a real file: batched appends keep every line whole and in order,
// add to what is there, create the log 0600, and stay whole beside a concurrent appender.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AUDIT_WRITE_BYTES,
  appendAudit,
  appendAuditLines,
  type AuditRecord,
} from "../../src/adapters/audit.js";

let base = "";
let log = "";
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "agentshare-audit-"));
  log = join(base, "audit.jsonl");
});
afterEach(() => rm(base, { recursive: true, force: true }));

/** A clock that ticks one second per call, from 2025-01-01. */
const tickingClock = () => {
  let n = 0;
  return () => new Date(Date.UTC(2025, 0, 1) + 1000 * n++);
};

/** `count` prune-like records from `writer`; every 97th carries a padding longer than one write group. */
const records = (writer: string, count: number): AuditRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    verb: "prune",
    agent: writer,
    run: `run-${i}`,
    bytes: i,
    result: "ok",
    ...(i % 97 === 0 ? { pad: "p".repeat(AUDIT_WRITE_BYTES + 10) } : {}),
  }));

const readLines = async () => (await readFile(log, "utf8")).split("\n");

describe("appendAuditLines", () => {
  it("creates the log 0600 with one whole line per record, in order, time from the clock", async () => {
    const recs = records("a", 2000);
    await appendAuditLines(log, recs, tickingClock());
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    const lines = await readLines();
    expect(lines.pop()).toBe(""); // the last line ends with a newline too
    expect(lines.length).toBe(2000);
    const clock = tickingClock();
    lines.forEach((line, i) => {
      expect(line).toBe(JSON.stringify({ time: clock().toISOString(), ...recs[i] }));
    });
  });

  it("appends after what the file holds and leaves its mode alone", async () => {
    await writeFile(log, '{"verb":"promote","result":"ok"}\n', { mode: 0o640 });
    await appendAudit(log, { verb: "init", result: "ok" }, tickingClock());
    await appendAuditLines(log, records("a", 3), tickingClock());
    const lines = await readLines();
    expect(lines[0]).toBe('{"verb":"promote","result":"ok"}');
    expect(lines.slice(1, -1).map((l) => (JSON.parse(l) as AuditRecord).verb)).toEqual([
      "init",
      "prune",
      "prune",
      "prune",
    ]);
    expect((await stat(log)).mode & 0o777).toBe(0o640);
  });

  it("writes nothing, and creates nothing, for no records", async () => {
    await appendAuditLines(log, []);
    await expect(stat(log)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("keeps lines whole and each writer's order beside concurrent appenders", async () => {
    const writers = ["a", "b", "c", "d"];
    await Promise.all(writers.map((w) => appendAuditLines(log, records(w, 3000))));
    const lines = (await readLines()).slice(0, -1);
    expect(lines.length).toBe(writers.length * 3000);
    const next = new Map(writers.map((w) => [w, 0]));
    for (const line of lines) {
      const rec = JSON.parse(line) as AuditRecord; // a torn line would not parse
      expect(rec.run).toBe(`run-${next.get(rec.agent as string)}`);
      next.set(rec.agent as string, (next.get(rec.agent as string) ?? 0) + 1);
    }
  });
});

// `agentshare prune [NAME…] [--all]`: delete old runs by the retention policy.
import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { formatBytes } from "../core/units.js";
import { UsageError } from "../errors.js";
import type { InboxResult } from "../ops/prune.js";
import { act, cliOf } from "./context.js";
import { parseNumberFlag } from "./number-flags.js";

interface PruneFlags {
  all: boolean;
  keepLast?: string;
  maxAge?: string;
  maxSize?: string;
  dryRun: boolean;
  lockWait: string;
}

const offOr = (v: string | undefined) => (v === undefined ? undefined : v === "off" ? null : v);

function keepLastOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new UsageError(`--keep-last ${JSON.stringify(v)} must be a whole number of at least 1`);
  return Number(v);
}

function text(r: InboxResult, dryRun: boolean): string {
  if (r.status !== "ok" && r.status !== "incomplete")
    return `${r.agent}: ${r.status}: ${escapeText(r.message ?? "")}`;
  const verb = dryRun ? "would delete" : "deleted";
  const done = r.runs.filter((x) => x.deleted || dryRun);
  const lines = [
    `${r.agent}: ${verb} ${done.length} runs, ${dryRun ? "would free" : "freed"} ${formatBytes(r.freedBytes)} (kept ${r.kept})`,
  ];
  for (const x of r.runs)
    lines.push(
      `  ${escapeText(x.name)}  ${formatBytes(x.bytes)}  ${x.reason}${x.deleted || dryRun ? "" : `  NOT deleted: ${escapeText(x.why ?? "")}`}`,
    );
  if (r.unfinished?.length)
    lines.push(
      `  kept ${r.unfinished.length} unfinished runs (no metrics.json: may still be running): ${escapeText(r.unfinished.join(", "))}`,
    );
  if (r.message) lines.push(`  note: ${escapeText(r.message)}`);
  return lines.join("\n");
}

/**
 * Exit code: a refused inbox 65, a missing one 66, runs that could not be deleted 74 (EX_IOERR),
 * a busy inbox 75 (EX_TEMPFAIL), else 0.
 */
export function pruneExitCode(results: readonly InboxResult[]): number | undefined {
  for (const code of [65, 66, 78, 70, 74, 75]) if (results.some((r) => r.exitCode === code)) return code;
  return undefined;
}

/** Registers `prune`. */
export function registerPrune(program: Command): void {
  program
    .command("prune [names...]")
    .description("delete old runs from inboxes by the retention policy (defaults from the config)")
    .option("--all", "every <root>/*-inbox with a valid agent name", false)
    .option("--keep-last <n>", "always keep the newest N runs")
    .option("--max-age <dur>", 'keep runs younger than this, counted from the newest run ("30d"; "off")')
    .option(
      "--max-size <size>",
      'delete the oldest runs (down to --keep-last) until the runs fit ("5G"; "off")',
    )
    .option("--dry-run", "show what would be deleted; delete nothing", false)
    .option("--lock-wait <seconds>", "how long to wait for another prune of the same inbox", "5")
    .action(
      act(async (names: string[], o: PruneFlags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const lockWait = parseNumberFlag("--lock-wait", o.lockWait, {
          min: 0,
          max: 86_400,
          fraction: true,
          unit: "seconds",
        });
        const r = await api.prune({
          agents: names,
          all: o.all,
          dryRun: o.dryRun,
          lockWaitMs: lockWait * 1000,
          keepLast: keepLastOf(o.keepLast),
          maxAge: offOr(o.maxAge),
          maxSize: offOr(o.maxSize),
        });
        const results = r.inboxes;
        for (const x of results.filter((i) => i.status !== "ok"))
          out.warn(`${x.agent}: ${escapeText(x.message ?? x.status)}`);
        out.result(r, () =>
          results.length ? results.map((x) => text(x, o.dryRun)).join("\n") : "no inboxes",
        );
        return pruneExitCode(results);
      }),
    );
}

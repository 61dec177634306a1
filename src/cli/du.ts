// `agentshare du [NAME…] [--check]`: each inbox's use against its enforced limit.
import type { Command } from "commander";
import { formatBytes } from "../core/units.js";
import type { InboxUsage } from "../ops/du.js";
import { act, contextOf } from "./context.js";
import { UsageError } from "../errors.js";

function text(u: InboxUsage): string {
  const use =
    u.usedBytes === null || u.limitBytes === null
      ? "no enforced limit"
      : `${formatBytes(u.usedBytes)} of ${formatBytes(u.limitBytes)} (${Math.round((100 * u.usedBytes) / Math.max(u.limitBytes, 1))}%)`;
  const lines = [`${u.agent}: ${use}, ${u.runs} runs${u.full ? "  INBOX FULL" : ""}`];
  for (const r of u.largest) lines.push(`  ${r.name}  ${formatBytes(r.bytes)}`);
  if (u.problem) lines.push(`  problem: ${u.problem}`);
  return lines.join("\n");
}

/** --top's value: a whole number from 0 to 1000. */
function parseTop(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1000)
    throw new UsageError(`--top must be a whole number from 0 to 1000, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Registers `du`. */
export function registerDu(program: Command): void {
  program
    .command("du [names...]")
    .description("show each inbox's use against its enforced limit, and its runs (all inboxes when no names)")
    .option("--check", "exit 1 when any inbox is full or its limit is not enforced", false)
    .option("--top <n>", "also list the n largest runs (walks those runs)", "0")
    .action(
      act(async (names: string[], o: { check: boolean; top: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const top = parseTop(o.top);
        const { du, needsAttention } = await import("../ops/du.js");
        const usage = await du(ctx, names, top);
        const flagged = usage.filter(needsAttention);
        for (const u of flagged)
          ctx.out.warn(
            u.full
              ? `${u.agent}'s inbox is full: ${formatBytes(u.usedBytes ?? 0)} of ${formatBytes(u.limitBytes ?? 0)} (grow it: agentshare resize ${u.agent} --quota SIZE, or prune)`
              : `${u.agent}'s inbox has no enforced limit: ${u.problem ?? "unknown"}`,
          );
        const failed = o.check && flagged.length > 0;
        ctx.out.result({ ok: !failed, inboxes: usage }, () =>
          usage.length ? usage.map(text).join("\n") : "no inboxes",
        );
        return failed ? 1 : undefined;
      }),
    );
}

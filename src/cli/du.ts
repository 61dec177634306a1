// `agentshare du [NAME…] [--check]`: inbox sizes against the quota.
import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { formatBytes } from "../core/units.js";
import type { InboxUsage } from "../ops/du.js";
import { act, contextOf } from "./context.js";

function text(u: InboxUsage): string {
  const quota = u.quotaBytes === null ? "no quota" : `quota ${formatBytes(u.quotaBytes)}`;
  const lines = [
    `${u.agent}: ${formatBytes(u.totalBytes)} in ${u.runs} runs (${quota})${u.overQuota ? "  OVER QUOTA" : ""}`,
  ];
  for (const r of u.largest) lines.push(`  ${escapeText(r.name)}  ${formatBytes(r.bytes)}`);
  if (u.problem) lines.push(`  problem: ${escapeText(u.problem)}`);
  return lines.join("\n");
}

/** Registers `du`. */
export function registerDu(program: Command): void {
  program
    .command("du [names...]")
    .description("show inbox sizes, run counts and the largest runs (all inboxes when no names)")
    .option("--check", "exit 1 when any inbox is over its quota", false)
    .option("--top <n>", "how many of the largest runs to list", "5")
    .action(
      act(async (names: string[], o: { check: boolean; top: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const { du } = await import("../ops/du.js");
        const usage = await du(ctx, names, Math.max(0, Number.parseInt(o.top, 10) || 0));
        for (const u of usage.filter((x) => x.overQuota))
          ctx.out.warn(
            `${u.agent}'s inbox uses ${formatBytes(u.totalBytes)}, over its quota of ${formatBytes(u.quotaBytes ?? 0)}`,
          );
        ctx.out.result({ ok: true, inboxes: usage }, () =>
          usage.length ? usage.map(text).join("\n") : "no inboxes",
        );
        return o.check && usage.some((u) => u.overQuota) ? 1 : undefined;
      }),
    );
}

// `agentshare du [NAME…] [--check]`: each inbox's use against its enforced limit.
import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { formatBytes } from "../core/units.js";
import type { InboxUsage } from "../ops/du.js";
import { act, cliOf } from "./context.js";
import { parseNumberFlag } from "./number-flags.js";

function text(u: InboxUsage): string {
  const use =
    u.usedBytes === null || u.limitBytes === null
      ? "no enforced limit"
      : `${formatBytes(u.usedBytes)} of ${formatBytes(u.limitBytes)} (${Math.round((100 * u.usedBytes) / Math.max(u.limitBytes, 1))}%)`;
  const lines = [`${u.agent}: ${use}, ${u.runs} runs${u.full ? "  INBOX FULL" : ""}`];
  for (const r of u.largest) lines.push(`  ${escapeText(r.name)}  ${formatBytes(r.bytes)}`);
  if (u.problem) lines.push(`  problem: ${escapeText(u.problem)}`);
  return lines.join("\n");
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
        const top = parseNumberFlag("--top", o.top, { min: 0, max: 10_000 });
        const { api, out } = cliOf(cmd);
        const r = await api.du(names, { top });
        const usage = r.inboxes;
        const flagged = usage.filter((u) => u.full || !u.enforced);
        for (const u of flagged)
          out.warn(
            u.full
              ? `${u.agent}'s inbox is full: ${formatBytes(u.usedBytes ?? 0)} of ${formatBytes(u.limitBytes ?? 0)} (grow it: agentshare resize ${u.agent} --quota SIZE, or prune)`
              : `${u.agent}'s inbox has no enforced limit: ${u.problem ?? "unknown"}`,
          );
        const failed = o.check && !r.ok;
        // ok: false whenever an inbox needs attention; only --check turns that into exit 1
        out.result(r, () => (usage.length ? usage.map(text).join("\n") : "no inboxes"));
        return failed ? 1 : undefined;
      }),
    );
}

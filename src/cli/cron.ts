// `agentshare cron install|remove`: schedule `agentshare prune --all` (cron.d or a systemd timer).
import type { Command } from "commander";
import { DEFAULT_CRON_FILE, DEFAULT_UNIT_DIR, SYSTEMD_MARKER } from "../core/paths.js";
import type { CronTargets } from "../ops/cron.js";
import { act, contextOf } from "./context.js";

const targets = (o: { cronFile: string; unitDir: string }): CronTargets => ({
  cronFile: o.cronFile,
  unitDir: o.unitDir,
  systemdMarker: process.env.AGENTSHARE_SYSTEMD_MARKER ?? SYSTEMD_MARKER,
});

function withTargets(cmd: Command): Command {
  return cmd
    .option(
      "--cron-file <file>",
      "cron file (env AGENTSHARE_CRON_FILE)",
      process.env.AGENTSHARE_CRON_FILE ?? DEFAULT_CRON_FILE,
    )
    .option(
      "--unit-dir <dir>",
      "systemd unit folder (env AGENTSHARE_UNIT_DIR)",
      process.env.AGENTSHARE_UNIT_DIR ?? DEFAULT_UNIT_DIR,
    );
}

/** Registers `cron install` and `cron remove`. */
export function registerCron(program: Command): void {
  const cron = program.command("cron").description("schedule `agentshare prune --all`");
  withTargets(cron.command("install"))
    .description("write /etc/cron.d/agentshare (or, with --timer, a systemd timer)")
    .option("--schedule <cron>", "5-field cron schedule", "17 3 * * *")
    .option("--timer", "use a systemd service + timer instead of cron (needs systemd)", false)
    .action(
      act(
        async (o: { schedule: string; timer: boolean; cronFile: string; unitDir: string }, cmd: Command) => {
          const ctx = contextOf(cmd);
          const { cronInstall } = await import("../ops/cron.js");
          const r = await cronInstall(ctx, { ...targets(o), schedule: o.schedule, timer: o.timer });
          ctx.out.result({ ok: true, files: r.files, command: r.job.argv, log: r.job.logFile }, () =>
            [
              `wrote ${r.files.join(", ")}`,
              `runs "${o.schedule}": ${r.job.argv.join(" ")}`,
              `output: ${r.job.logFile}`,
            ].join("\n"),
          );
        },
      ),
    );
  withTargets(cron.command("remove"))
    .description("remove the schedule written by `cron install`")
    .action(
      act(async (o: { cronFile: string; unitDir: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const { cronRemove } = await import("../ops/cron.js");
        const removed = await cronRemove(ctx, targets(o));
        ctx.out.result({ ok: true, removed }, () =>
          removed.length ? `removed ${removed.join(", ")}` : "nothing to remove",
        );
      }),
    );
}

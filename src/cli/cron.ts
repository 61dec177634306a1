// `agentshare cron install|remove`: schedule `agentshare prune --all` (cron.d or a systemd timer).
import type { Command } from "commander";
import { DEFAULT_CRON_FILE, DEFAULT_UNIT_DIR } from "../core/paths.js";
import { act, cliOf } from "./context.js";

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
          const { api, out } = cliOf(cmd);
          const r = await api.cronInstall({
            cronFile: o.cronFile,
            unitDir: o.unitDir,
            schedule: o.schedule,
            timer: o.timer,
            script: process.argv[1],
          });
          out.result(r, () =>
            [
              `wrote ${r.files.join(", ")}`,
              `runs "${o.schedule}": ${r.command.join(" ")}`,
              `output: ${r.log}`,
            ].join("\n"),
          );
        },
      ),
    );
  withTargets(cron.command("remove"))
    .description("remove the schedule written by `cron install`")
    .action(
      act(async (o: { cronFile: string; unitDir: string }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.cronRemove({ cronFile: o.cronFile, unitDir: o.unitDir });
        out.result(r, () => (r.removed.length ? `removed ${r.removed.join(", ")}` : "nothing to remove"));
      }),
    );
}

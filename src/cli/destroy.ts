import type { Command } from "commander";
import { act, cliOf } from "./context.js";
import { parseNumberFlag } from "./number-flags.js";

export function registerDestroy(program: Command): void {
  program
    .command("destroy <name>")
    .description(
      "stop and undefine an agent's VM and remove its state; the inbox is kept unless --purge-inbox",
    )
    .option("--purge-inbox", "also delete the agent's inbox (its runs and outputs)")
    .option("--timeout <seconds>", "graceful shutdown time before the VM is forced off", "30")
    .action(
      act(async (name: string, o: { purgeInbox?: boolean; timeout: string }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.destroy(name, {
          purgeInbox: Boolean(o.purgeInbox),
          shutdownTimeoutMs:
            parseNumberFlag("--timeout", o.timeout, { min: 0, max: 3600, fraction: true, unit: "seconds" }) *
            1000,
        });
        out.result(
          r,
          () =>
            `${name}: destroyed (VM ${r.stopped.replace("-", " ")}); inbox ${r.inboxKept ? `kept at ${r.inbox}` : "deleted"}`,
        );
      }),
    );
}

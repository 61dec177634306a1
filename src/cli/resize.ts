// `agentshare resize NAME --quota SIZE`: grow an agent's inbox limit.
import type { Command } from "commander";
import { formatBytes } from "../core/units.js";
import { act, cliOf } from "./context.js";

export function registerResize(program: Command): void {
  program
    .command("resize <name>")
    .description("grow an agent's inbox file system (its enforced limit), online; never shrinks")
    .requiredOption("--quota <size>", "the new size, e.g. 20G")
    .action(
      act(async (name: string, o: { quota: string }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.resize(name, o.quota);
        out.result(r, () =>
          r.action === "grown"
            ? `${name}: inbox grown from ${formatBytes(r.fromBytes)} to ${formatBytes(r.limitBytes)}`
            : `${name}: inbox is already ${formatBytes(r.limitBytes)}`,
        );
      }),
    );
}

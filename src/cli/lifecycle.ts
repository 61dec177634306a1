// `agentshare start|stop|restart NAME`: the VM of an existing agent (see src/ops/lifecycle.ts).
import type { Command } from "commander";
import type { StartAgentResult, StopAgentResult } from "../ops/lifecycle.js";
import { act, cliOf } from "./context.js";
import { parseNumberFlag } from "./number-flags.js";

interface Flags {
  wait?: boolean;
  timeout: string;
  stopTimeout?: string;
}

const waitMs = (text: string) =>
  parseNumberFlag("--timeout", text, { min: 1, max: 86_400, unit: "seconds" }) * 1000;
const stopMs = (flag: string, text: string) =>
  parseNumberFlag(flag, text, { min: 0, max: 3600, fraction: true, unit: "seconds" }) * 1000;

/** `--wait` (the default) and `--no-wait`, as provision has them. */
const withWaitFlags = (cmd: Command) =>
  cmd
    .option("--wait", "wait until the guest reports ready (the default)")
    .option("--no-wait", "start without waiting for the guest to report ready");

function startText(r: StartAgentResult): string {
  if (r.action === "already-running") return `${r.name}: already running${r.ready ? ", ready" : ""}`;
  return `${r.name}: started${r.ready ? ", ready" : " (not ready yet)"}`;
}

const stopText = (r: StopAgentResult) =>
  r.action === "already-stopped" ? `${r.name}: already stopped` : `${r.name}: stopped (${r.stopped})`;

export function registerLifecycle(program: Command): void {
  withWaitFlags(
    program
      .command("start <name>")
      .description("mount the inbox, start the agent's VM and wait until it is ready"),
  )
    .option("--timeout <seconds>", "how long to wait for ready", "600")
    .action(
      act(async (name: string, o: Flags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.start(name, { wait: o.wait !== false, timeoutMs: waitMs(o.timeout) });
        out.result(r, () => startText(r));
      }),
    );
  program
    .command("stop <name>")
    .description("shut the agent's VM down (ACPI), forcing it off after --timeout; the agent stays defined")
    .option("--timeout <seconds>", "graceful shutdown time before the VM is forced off", "30")
    .action(
      act(async (name: string, o: Flags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.stop(name, { shutdownTimeoutMs: stopMs("--timeout", o.timeout) });
        out.result(r, () => stopText(r));
      }),
    );
  withWaitFlags(
    program
      .command("restart <name>")
      .description("stop the agent's VM (graceful, then forced) and start it again"),
  )
    .option("--timeout <seconds>", "how long to wait for ready", "600")
    .option("--stop-timeout <seconds>", "graceful shutdown time before the VM is forced off", "30")
    .action(
      act(async (name: string, o: Flags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.restart(name, {
          wait: o.wait !== false,
          timeoutMs: waitMs(o.timeout),
          shutdownTimeoutMs: stopMs("--stop-timeout", o.stopTimeout ?? "30"),
        });
        out.result(
          r,
          () =>
            `${r.name}: restarted (${r.stopped === "was-stopped" ? "was stopped" : `stopped ${r.stopped}`})${r.ready ? ", ready" : " (not ready yet)"}`,
        );
      }),
    );
}

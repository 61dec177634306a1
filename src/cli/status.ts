import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { formatBytes } from "../core/units.js";
import type { AgentStatus } from "../ops/status.js";
import { act, cliOf } from "./context.js";

const COLUMNS = ["NAME", "STATE", "READY", "IP", "INBOX", "RUNS", "LATEST RUN", "EXIT"];

/** "1.2 MiB / 10.0 GiB", with FULL when the guest can write no more. */
function inboxText(s: AgentStatus): string {
  if (s.inboxBytes === null) return "-";
  const use =
    s.inboxLimitBytes === null
      ? formatBytes(s.inboxBytes)
      : `${formatBytes(s.inboxBytes)} / ${formatBytes(s.inboxLimitBytes)}`;
  return s.inboxFull ? `${use} FULL` : use;
}

/** The latest run's exit code, "running" while it has none, and "NOT PERSISTED" when it lost output. */
function exitText(s: AgentStatus): string {
  if (s.latestRun === null) return "-";
  const code = s.latestExitCode === null ? "running" : String(s.latestExitCode);
  return s.latestPersisted === false ? `${code} NOT PERSISTED` : code;
}

function row(s: AgentStatus): string[] {
  return [
    s.name,
    s.state,
    s.ready ? "yes" : "no",
    s.ip === null ? "-" : s.forward ? `${s.ip} (ssh :${s.forward.ssh}, health :${s.forward.health})` : s.ip,
    inboxText(s),
    String(s.runs),
    escapeText(s.latestRun ?? "-"),
    exitText(s),
  ];
}

/** A status field as text: `forward` ({ health, ssh }) as "health :41001, ssh :41002". */
const fieldText = (v: unknown): string =>
  v !== null && typeof v === "object"
    ? Object.entries(v)
        .map(([k, x]) => `${k} :${escapeText(String(x))}`)
        .join(", ")
    : escapeText(String(v ?? "-"));

/** Left-aligned columns, two spaces apart. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function registerStatus(program: Command): void {
  program
    .command("list")
    .alias("ls")
    .description("list agents: libvirt state, ready, IP, inbox size, runs")
    .action(
      act(async (_o: unknown, cmd: Command) => {
        const { api, out, opts } = cliOf(cmd);
        if (opts.host !== undefined) {
          const all = await api.list();
          out.result(all, () =>
            all.length ? formatTable(COLUMNS, all.map(row)) : `no agents on host ${opts.host}`,
          );
          return;
        }
        const f = await api.fleet();
        if (f.hosts.length === 1) {
          // no remote hosts configured: the list of this machine's agents, as always
          out.result(f.agents, () =>
            f.agents.length
              ? formatTable(COLUMNS, f.agents.map(row))
              : "no agents (create one: agentshare provision agent-01)",
          );
          return;
        }
        out.result(f, () => {
          const table = f.agents.length
            ? formatTable(
                ["HOST", ...COLUMNS],
                f.agents.map((s) => [s.host ?? "local", ...row(s)]),
              )
            : "no agents on any host";
          const down = f.hosts
            .filter((h) => !h.reachable)
            .map((h) => `host ${h.name}: unreachable: ${escapeText(h.error ?? "?").split("\n")[0]}`);
          return [table, ...down].join("\n");
        });
        return f.ok ? 0 : 69;
      }),
    );
  program
    .command("status <name>")
    .description("one agent's state, readiness, address, inbox and runs")
    .action(
      act(async (name: string, _o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const s = await api.status(name);
        out.result(s, () =>
          Object.entries(s)
            .map(([k, v]) => `${k.padEnd(15)} ${fieldText(v)}`)
            .join("\n"),
        );
        return s.state === "running" && s.ready ? 0 : 3;
      }),
    );
}

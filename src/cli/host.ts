// `agentshare host add|rm|list|setup` and `agentshare sync`: the fleet's hosts (docs/fleet.md).
import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { UsageError } from "../errors.js";
import { act, cliOf } from "./context.js";
import { formatTable } from "./status.js";

const collectLabel = (v: string, prev: Record<string, string> = {}) => {
  const m = /^([^=\s]+)=([^=\s]*)$/.exec(v);
  if (!m)
    throw new UsageError(`--label ${JSON.stringify(v)} is not NAME=VALUE`, { hint: "e.g. --label zone=a" });
  return { ...prev, [m[1] as string]: m[2] as string };
};

const wholeNumber = (flag: string, v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(String(v)))
    throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
};

export function registerHost(program: Command): void {
  const host = program
    .command("host")
    .description("the fleet's VM hosts: add, rm, list, setup (docs/fleet.md)");
  host
    .command("add <name> <target>")
    .description("record a remote host (user@address[:port]) after logging in with its host key pinned")
    .option("--identity <file>", "private key to log in with", "/root/.ssh/id_ed25519")
    .option(
      "--known-hosts <file>",
      "known_hosts that must already vouch for the host's key (never trusted on first use)",
      "/root/.ssh/known_hosts",
    )
    .option("--root <dir>", "the host's host tree (default /srv/agentshare)")
    .option("--state-dir <dir>", "the host's state dir (default /var/lib/agentshare)")
    .option("--label <name=value>", "a label for placement selectors (repeatable)", collectLabel)
    .option("--max-agents <n>", "at most this many agents on the host")
    .option("--memory <mib>", "MiB of memory the host's agents may reserve together")
    .action(
      act(async (name: string, target: string, o: Record<string, unknown>, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.addHost(name, target, {
          identity: o.identity as string,
          knownHosts: o.knownHosts as string,
          root: o.root as string | undefined,
          stateDir: o.stateDir as string | undefined,
          labels: o.label as Record<string, string> | undefined,
          maxAgents: wholeNumber("--max-agents", o.maxAgents),
          memory: wholeNumber("--memory", o.memory),
        });
        out.result(
          r,
          () => `added host ${name}: ${r.host.libvirt ? `libvirt ${r.host.libvirt}` : "reachable"}`,
        );
      }),
    );
  host
    .command("rm <name>")
    .description("forget a host that `host add` recorded (refused while agents are placed on it)")
    .option("--force", "forget it and its agents' placement records (the VMs there are left alone)")
    .action(
      act(async (name: string, o: { force?: boolean }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.removeHost(name, { force: Boolean(o.force) });
        out.result(r, () => `removed host ${name}`);
      }),
    );
  host
    .command("list")
    .alias("ls")
    .description("each host with reachability, libvirt/QEMU versions, free memory and agent count")
    .action(
      act(async (_o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const all = await api.hosts();
        out.result(all, () =>
          formatTable(
            ["HOST", "SSH", "REACHABLE", "LIBVIRT", "QEMU", "FREE MEM", "AGENTS", "LABELS"],
            all.map((h) => [
              h.name,
              h.ssh ?? "-",
              h.reachable ? "yes" : `no: ${escapeText(h.error ?? "?").split("\n")[0]}`,
              h.libvirt ?? "-",
              h.hypervisor ?? "-",
              h.memAvailableMiB === undefined ? "-" : `${h.memAvailableMiB} MiB`,
              h.agents === undefined ? "-" : `${h.agents}${h.maxAgents === null ? "" : `/${h.maxAgents}`}`,
              Object.entries(h.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(",") || "-",
            ]),
          ),
        );
        return all.every((h) => h.reachable) ? 0 : 69;
      }),
    );
  host
    .command("setup <name>")
    .description("run the project's host setup script on a host over SSH (as root there)")
    .action(
      act(async (name: string, _o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.setupHost(name);
        out.result(
          r,
          () => `${escapeText(r.output, { lines: true })}\nhost setup on ${name}: exit ${r.exitCode}`,
        );
        return r.ok ? 0 : 69;
      }),
    );

  program
    .command("sync")
    .description("make every host's global match this machine's (by checksum); report files only a host has")
    .action(
      act(async (_o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.sync();
        out.result(r, () =>
          r.hosts.length
            ? r.hosts
                .map((h) =>
                  h.ok
                    ? `${h.host}: ${h.copied.length} copied${h.copied.length ? ` (${h.copied.join(", ")})` : ""}, ${h.same} the same` +
                      (h.extra.length
                        ? `; only there (kept, not published here): ${h.extra.map((e) => escapeText(e)).join(", ")}`
                        : "")
                    : `${h.host}: FAILED: ${escapeText(h.error ?? "?")}`,
                )
                .join("\n")
            : "no remote hosts (add one: agentshare host add NAME user@address)",
        );
        return r.ok ? 0 : 69;
      }),
    );
}

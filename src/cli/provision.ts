import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { AgentSettings } from "../api/types.js";
import { act, cliOf } from "./context.js";
import { parseNumberFlag } from "./number-flags.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Flags that override config fields (highest layer). Only the ones given are set. */
const FIELD_FLAGS: Array<[flag: string, field: string, help: string]> = [
  ["--memory <mib>", "memory", "memory in MiB"],
  ["--vcpus <n>", "vcpus", "virtual CPUs"],
  ["--disk <size>", "disk", "overlay disk size, e.g. 20G"],
  ["--image <image>", "image", "base qcow2: a name in <state-dir>/images or an absolute path"],
  ["--network <name>", "network", "libvirt network"],
  [
    "--access <mode>",
    "access",
    "how the host reaches the guest: network (its DHCP address) or loopback (ports forwarded to 127.0.0.1, guest isolated)",
  ],
  ["--command <cmd>", "command", "the agent's workload, run through the per-run wrapper"],
  ["--description <text>", "description", "free text kept in the domain XML"],
  ["--domain-type <type>", "domainType", "kvm, qemu (TCG) or auto"],
  ["--kernel <path>", "kernel", "direct kernel boot: kernel image"],
  ["--initrd <path>", "initrd", "direct kernel boot: initramfs"],
  ["--cmdline <args>", "cmdline", "direct kernel boot: kernel command line"],
  ["--uid <uid>", "uid", "uid of the agent user and of the inbox"],
  ["--gid <gid>", "gid", "gid of the agent user and of the inbox"],
  ["--tmp-size <size>", "tmpSize", "size of the /tmp tmpfs, e.g. 512m"],
  ["--tcg-cache <mib>", "tcgCache", "MiB of TCG translation cache (domain type qemu only)"],
  ["--health-port <port>", "healthPort", "port of the guest's health server"],
  ["--inbox-quota <size>", "inboxQuota", "size of the inbox's own file system: a hard limit, e.g. 10G"],
];

/** Declares --profile and the config flags provision takes (also used by `render kubevirt`). */
export function addConfigFlags(cmd: Command): Command {
  cmd.option("--profile <name>", "VM profile from templates/ (default: the config file's, else default)");
  for (const [flag, , help] of FIELD_FLAGS) cmd.option(flag, help);
  return cmd
    .option("--ssh-key <key>", "authorized public key for the agent user (repeatable)", collect)
    .option("--no-image", "no disk image (direct kernel boot only)")
    .option("--no-network", "no network interface");
}

/** The config overrides among the parsed options: only the flags given. */
export function configFlagsOf(o: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [flag, field] of FIELD_FLAGS) {
    const key = flag
      .slice(2)
      .split(" ")[0]!
      .replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    if (o[key] !== undefined) flags[field] = o[key];
  }
  if (o.sshKey) flags.sshKeys = o.sshKey;
  if (o.image === false) flags.image = null;
  if (o.network === false) flags.network = null;
  return flags;
}

export function registerProvision(program: Command): void {
  const cmd = program
    .command("provision <name>")
    .description(
      "create an agent: inbox, overlay disk, cloud-init seed, libvirt domain; start it and wait until ready",
    );
  addConfigFlags(cmd)
    .option("--dry-run", "write domain.xml, user-data, meta-data to the state dir; touch nothing else")
    .option("--no-start", "define the domain but do not start it")
    .option("--wait", "wait until the guest reports ready (the default)")
    .option("--no-wait", "start without waiting for the guest to report ready")
    .option("--timeout <seconds>", "how long to wait for ready", "600")
    .option("--recreate", "replace an existing agent whose spec changed (its inbox is kept)")
    .option("--selector <labels>", "with --host auto: only hosts with these labels, e.g. zone=a,gpu=yes")
    .action(
      act(async (name: string, o: Record<string, unknown>, c: Command) => {
        const { api, out } = cliOf(c);
        const flags = configFlagsOf(o);
        let selector: Record<string, string> | undefined;
        if (o.selector !== undefined) {
          const { parseSelector } = await import("../core/fleet.js");
          const sel = parseSelector(String(o.selector));
          if ("problem" in sel)
            throw new UsageError(`--selector: ${sel.problem}`, { hint: "e.g. --selector zone=a,gpu=yes" });
          selector = sel;
        }
        const r = await api.provision(name, {
          selector,
          profile: o.profile as string | undefined,
          settings: flags as AgentSettings,
          dryRun: Boolean(o.dryRun),
          start: o.start !== false,
          wait: o.wait !== false,
          timeoutMs:
            parseNumberFlag("--timeout", String(o.timeout), { min: 1, max: 86_400, unit: "seconds" }) * 1000,
          recreate: Boolean(o.recreate),
        });
        out.result(r, () => (r.host === "local" ? r.summary : `${r.summary} (on host ${r.host})`));
      }),
    );
}

// `agentshare promote FILE [--to SUB] [--force]`: staging → global/<sub>, with checksum sidecar.
import { type Command, Option } from "commander";
import { GLOBAL_SUBDIRS, type GlobalSubdir } from "../core/paths.js";
import { escapeText } from "../core/terminal-text.js";
import { formatBytes } from "../core/units.js";
import { act, cliOf } from "./context.js";

/** Registers `promote`. */
export function registerPromote(program: Command): void {
  program
    .command("promote <file>")
    .description(
      "publish a reviewed file from <root>/staging/ into <root>/global/<sub>/ (0444, with NAME.sha256)",
    )
    .addOption(new Option("--to <sub>", "global subfolder").choices([...GLOBAL_SUBDIRS]).default("tools"))
    .option("--force", "replace an existing file in global (atomically)", false)
    .action(
      act(async (file: string, o: { to: GlobalSubdir; force: boolean }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.promote(file, { to: o.to, force: o.force });
        out.result(r, () =>
          [
            `${r.replaced ? "replaced" : "promoted"} ${escapeText(r.dest)} (${formatBytes(r.size)})`,
            `sha256 ${r.sha256}  (check: cd ${api.paths.global}/${o.to} && sha256sum -c --strict ${escapeText(r.name)}.sha256)`,
            r.stagingChecksum === "verified" ? `matched staging/${escapeText(r.name)}.sha256` : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      }),
    );
}

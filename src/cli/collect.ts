// `agentshare collect NAME PATH [--as NEWNAME]`: one file from an agent's inbox into staging.
import type { Command } from "commander";
import { escapeText } from "../core/terminal-text.js";
import { parseSize, formatBytes } from "../core/units.js";
import { UsageError } from "../errors.js";
import { act, cliOf } from "./context.js";

/** Registers `collect`. */
export function registerCollect(program: Command): void {
  program
    .command("collect <name> <path>")
    .description(
      "copy a file out of <root>/<name>-inbox/<path> into <root>/staging/ for review (never follows symlinks)",
    )
    .option("--as <newname>", "name to give it in staging (default: the file's own name)")
    .option("--force", "replace an existing staging file", false)
    .option("--max-size <size>", "refuse files larger than this", "1G")
    .action(
      act(
        async (
          agent: string,
          path: string,
          o: { as?: string; force: boolean; maxSize: string },
          cmd: Command,
        ) => {
          const { api, out } = cliOf(cmd);
          const maxBytes = parseSize(o.maxSize);
          if (maxBytes === undefined)
            throw new UsageError(`--max-size ${JSON.stringify(o.maxSize)} is not a size`, {
              hint: 'use e.g. "1G" or "200M"',
            });
          const r = await api.collect(agent, path, { as: o.as, force: o.force, maxBytes });
          out.result(
            r,
            () =>
              `collected ${escapeText(r.source)} → ${escapeText(r.dest)} (${formatBytes(r.size)}, sha256 ${r.sha256})`,
          );
        },
      ),
    );
}

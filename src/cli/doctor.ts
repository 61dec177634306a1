import type { Command } from "commander";
import { act, cliOf } from "./context.js";
import { formatTable } from "./status.js";

const MARK = { pass: "ok", warn: "WARN", fail: "FAIL" } as const;

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check the host: libvirt, QEMU, KVM or TCG, virtiofsd, read-only global, tools, disk space")
    .action(
      act(async (_o: unknown, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.doctor();
        out.result(r, () => {
          const table = formatTable(
            ["CHECK", "STATUS", "DETAIL"],
            r.checks.map((c) => [c.check, MARK[c.status], c.detail]),
          );
          const fixes = r.checks
            .filter((c) => c.fix && c.status !== "pass")
            .map((c) => `  ${c.check}: ${c.fix}`);
          return [
            table,
            fixes.length ? `\nto fix:\n${fixes.join("\n")}` : "",
            r.ok ? "\nall required checks pass" : "\nsome required checks FAIL",
          ].join("\n");
        });
        return r.ok ? 0 : 1;
      }),
    );
}

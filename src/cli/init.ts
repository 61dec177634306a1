import type { Command } from "commander";
import { act, cliOf } from "./context.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create the host tree (global, staging, global-ro read-only bind mount) and the state dir")
    .option(
      "--no-mount",
      "do not bind-mount global-ro read-only (doctor will report the global share unprotected)",
    )
    .action(
      act(async (o: { mount: boolean }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const r = await api.init({ mount: o.mount });
        out.result(r, () =>
          [
            `host tree at ${r.root}, state in ${r.stateDir}`,
            r.created.length ? `created: ${r.created.join(", ")}` : "nothing to create: already initialised",
            r.globalRo === "skipped"
              ? "global-ro: NOT mounted read-only (--no-mount): guests could write global; `agentshare doctor` reports this"
              : `global-ro: read-only bind mount of global (${r.globalRo === "already" ? "already in place" : "mounted"}, verified)`,
            r.inboxesMounted.length ? `inboxes mounted again: ${r.inboxesMounted.join(", ")}` : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      }),
    );
}

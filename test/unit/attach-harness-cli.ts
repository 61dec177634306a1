// The attach command alone, for tests while dist/ is not built: the real registerAttach,
// op and eventsource client, with main.ts's exit-code rule (error.exitCode, else 70).
import { Command } from "commander";
import { registerAttach } from "../../src/cli/attach.js";
import { addGlobalOptions } from "../../src/cli/context.js";

const program = addGlobalOptions(new Command("agentshare")).exitOverride();
registerAttach(program);
program.parseAsync(process.argv).catch((err: { message?: string; exitCode?: number }) => {
  process.stderr.write(`agentshare: ${err.message ?? String(err)}\n`);
  process.exitCode = typeof err.exitCode === "number" ? err.exitCode : 70;
});

import type { Command } from "commander";
import { act, contextOf } from "./context.js";

export function registerProvision(program: Command): void {
  program.command("provision <name>").description("create and start an agent VM").action(act(async (_n: string, _o: unknown, cmd: Command) => {
    contextOf(cmd).out.line("todo");
  }));
}

import type { Command } from "commander";
import { act, contextOf } from "./context.js";

export function registerInit(program: Command): void {
  program.command("init").description("create the host tree").action(act(async (_o: unknown, cmd: Command) => {
    contextOf(cmd).out.line("todo");
  }));
}

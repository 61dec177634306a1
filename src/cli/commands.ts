// Every verb registers itself here; one file per verb under src/cli/.
import type { Command } from "commander";
import { registerInit } from "./init.js";
import { registerProvision } from "./provision.js";

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [registerInit, registerProvision];

// Every verb registers itself here; one file per verb under src/cli/.
import type { Command } from "commander";
import { registerInit } from "./init.js";
import { registerProvision } from "./provision.js";
import { registerPromote } from "./promote.js";
import { registerCollect } from "./collect.js";
import { registerPrune } from "./prune.js";
import { registerDu } from "./du.js";
import { registerCron } from "./cron.js";
import { registerAttach } from "./attach.js";
import { registerImage } from "./image.js";
import { registerDestroy } from "./destroy.js";
import { registerStatus } from "./status.js";
import { registerDoctor } from "./doctor.js";
import { registerExec } from "./exec.js";

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerInit,
  registerProvision,
  registerDestroy,
  registerStatus,
  registerDoctor,
  registerPromote,
  registerCollect,
  registerPrune,
  registerDu,
  registerCron,
  registerAttach,
  registerImage,
  registerExec,
];

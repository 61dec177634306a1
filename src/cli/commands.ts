// Every verb registers itself here; one file per verb under src/cli/.
// Registering runs on every start (even --version), so a verb file statically imports only
// commander, other src/cli/ files, core/ and errors; its action loads the op it calls with
// `await import("../ops/….js")` (types come in with `import type`). ESLint enforces this, and
// test/unit/cli-startup.test.ts checks what `--version` and every `--help` load.
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
import { registerResize } from "./resize.js";
import { registerLifecycle } from "./lifecycle.js";
import { registerRender } from "./render.js";
import { registerServe } from "./serve.js";
import { registerHost } from "./host.js";

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerInit,
  registerProvision,
  registerLifecycle,
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
  registerResize,
  registerRender,
  registerServe,
  registerHost,
];

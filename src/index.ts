// agentshare as a library: `import { createAgentshare } from "agentshare"`. Everything a program
// needs is exported from here; docs/api.md describes it, with examples.
export { createAgentshare, resolveOptions } from "./api/agentshare.js";
export type { Agentshare, CronInstallResult, DoctorResult, DuResult, PruneResult } from "./api/agentshare.js";
export type { EphemeralAgent } from "./api/ephemeral.js";
export type * from "./api/types.js";

export {
  AgentshareError,
  ConfigError,
  DataError,
  InternalError,
  NoPermissionError,
  NotFoundError,
  TempFailError,
  ToolError,
  UsageError,
} from "./errors.js";
export type { ErrorOptions } from "./errors.js";

export type { Runner, RunOptions, RunResult } from "./adapters/runner.js";
export type { AgentConfig, RetentionConfig } from "./core/config.js";
export type { HostPaths } from "./core/paths.js";
export type { CollectResult } from "./ops/collect.js";
export type { CheckResult, CheckStatus } from "./ops/doctor.js";
export type { DestroyResult } from "./ops/destroy.js";
export type { InboxUsage } from "./ops/du.js";
export type { BuildImageResult } from "./ops/image-build.js";
export type { ImageListEntry } from "./ops/image.js";
export type { InitReport } from "./ops/init.js";
export type { RestartAgentResult, StartAgentResult, StopAgentResult } from "./ops/lifecycle.js";
export type { PromoteResult } from "./ops/promote.js";
export type { InboxResult, PrunedRun } from "./ops/prune.js";
export type { ProvisionResult } from "./ops/provision.js";
export type { ResizeResult } from "./ops/resize.js";
export type { AgentStatus } from "./ops/status.js";

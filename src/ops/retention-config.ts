// The one place prune and du get their configuration from (the config file via --config,
// default /etc/agentshare/config.yaml, with the agent's `agents.NAME` overrides applied).
import type { OpContext } from "./context.js";
import type { Config } from "../core/config.js";
import { parseSize } from "../core/units.js";
import { loadConfig } from "./config-load.js";

/** The resolved config for `agent` (or the global one); throws ConfigError listing every problem. */
export async function configFor(ctx: OpContext, agent?: string): Promise<Config> {
  return (await loadConfig({ configFile: ctx.opts.config, agentName: agent })).config;
}

/** The agent's inboxQuota in bytes (validated by loadConfig, so always a size). */
export async function inboxLimitOf(ctx: OpContext, agent: string): Promise<number> {
  return parseSize((await configFor(ctx, agent)).inboxQuota)!;
}

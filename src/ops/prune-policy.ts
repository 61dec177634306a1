// The retention policy of one agent: config file (with its agents.NAME overrides) < flags.
import type { OpContext } from "./context.js";
import type { RetentionPolicy } from "../core/retention.js";
import { parseDuration, parseSize } from "../core/units.js";
import { UsageError } from "../errors.js";
import { configFor } from "./retention-config.js";

/** Flag values as typed; null disables a rule ("off"), undefined means "from the config". */
export interface PolicyFlags {
  keepLast?: number;
  maxAge?: string | null;
  maxSize?: string | null;
}

/** Throws a UsageError naming the first malformed flag. */
export function checkPolicyFlags(flags: PolicyFlags): void {
  if (flags.keepLast !== undefined && !(Number.isInteger(flags.keepLast) && flags.keepLast >= 1))
    throw new UsageError(`--keep-last ${flags.keepLast} must be a whole number of at least 1`);
  if (typeof flags.maxAge === "string" && !parseDuration(flags.maxAge))
    throw new UsageError(`--max-age ${JSON.stringify(flags.maxAge)} is not a duration`, {
      hint: 'use e.g. "30d", "12h", "90m", or "off"',
    });
  if (typeof flags.maxSize === "string" && parseSize(flags.maxSize) === undefined)
    throw new UsageError(`--max-size ${JSON.stringify(flags.maxSize)} is not a size`, {
      hint: 'use e.g. "5G", "500M", or "off"',
    });
}

/** Resolves the policy of `agent` (flags already checked). */
export async function policyFor(ctx: OpContext, agent: string, flags: PolicyFlags): Promise<RetentionPolicy> {
  const cfg = (await configFor(ctx, agent)).retention;
  const maxAge = flags.maxAge === undefined ? cfg.maxAge : flags.maxAge;
  const maxSize = flags.maxSize === undefined ? cfg.maxSize : flags.maxSize;
  return {
    keepLast: flags.keepLast ?? cfg.keepLast,
    maxAgeSec: maxAge === null ? null : (parseDuration(maxAge) ?? null),
    maxSizeBytes: maxSize === null ? null : (parseSize(maxSize) ?? null),
  };
}

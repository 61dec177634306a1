// Numeric command-line flags: the text must be a number, within bounds, or the command stops
// with a UsageError (exit 64) naming the flag. Never Number(text) || default, which turns "abc" into 0.
import { UsageError } from "../errors.js";

export interface NumberRule {
  min: number;
  max: number;
  /** Allow a fraction ("2.5"); whole numbers only by default. */
  fraction?: boolean;
  /** What the number counts, for the message: "seconds", "MiB". */
  unit?: string;
}

/** Parses `text` given to `flag` ("--lock-wait") by `rule`. */
export function parseNumberFlag(flag: string, text: string, rule: NumberRule): number {
  const shape = rule.fraction ? /^\d+(\.\d+)?$/ : /^\d+$/;
  const n = Number(text);
  const unit = rule.unit ? ` of ${rule.unit}` : "";
  const kind = rule.fraction ? "a number" : "a whole number";
  if (!shape.test(text.trim()) || !Number.isFinite(n) || n < rule.min || n > rule.max)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} must be ${kind}${unit} from ${rule.min} to ${rule.max}`,
      { hint: `e.g. ${flag} ${Math.max(rule.min, Math.min(rule.max, 5))}` },
    );
  return n;
}

/** The same for an optional flag: undefined stays undefined. */
export const parseOptionalNumberFlag = (
  flag: string,
  text: string | undefined,
  rule: NumberRule,
): number | undefined => (text === undefined ? undefined : parseNumberFlag(flag, text, rule));

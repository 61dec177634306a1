// Agent names become a hostname, a libvirt domain name and an inbox folder, so they are
// checked strictly and rejected (never rewritten): two names can never map to one inbox.

export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** Names that collide with the host tree, the state dir or CLI words. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "global",
  "global-ro",
  "staging",
  "trash",
  "images",
  "agents",
  "locks",
  "all",
  "current",
  "runs",
  "default",
  "localhost",
]);

/** What to tell a user whose agent name breaks the rule (every verb says the same, exit 65). */
export const AGENT_NAME_HINT =
  "agent names are hostnames: lowercase letters, digits and '-', starting with a letter, e.g. agent-01";

/** Returns the rule the name breaks, or undefined when it is valid. Pure. */
export function checkAgentName(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > 63) return `must be at most 63 characters (has ${name.length})`;
  if (!/^[a-z]/.test(name)) return "must start with a lowercase letter a-z";
  if (!AGENT_NAME_PATTERN.test(name)) {
    const bad = [...name].find((c) => !/[a-z0-9-]/.test(c)) ?? "";
    return `may contain only lowercase letters, digits and '-' (found ${JSON.stringify(bad)})`;
  }
  if (name.endsWith("-")) return "must not end with '-'";
  if (RESERVED_NAMES.has(name)) return `is reserved (reserved: ${[...RESERVED_NAMES].join(", ")})`;
  return undefined;
}

// The sha256sum line format ("<64 hex>  NAME\n", text mode), as `sha256sum -c --strict` reads it.

/** The sidecar line for `name` (names are checked to need no escaping: see staging-names.ts). */
export const buildSha256Line = (hex: string, name: string): string => `${hex}  ${name}\n`;

/**
 * Parses the first line of a .sha256 sidecar for `name`; accepts text ("  ") and binary
 * (" *") mode. Returns the hex digest, or the rule the text breaks.
 */
export function parseSha256Line(text: string, name: string): { hex: string } | { problem: string } {
  const line = text.split("\n")[0] ?? "";
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.replace(/\r$/, ""));
  if (!m) return { problem: 'must be a sha256sum line: "<64 hex digits>  NAME"' };
  if (m[2] !== name) return { problem: `names ${JSON.stringify(m[2])}, not ${JSON.stringify(name)}` };
  return { hex: (m[1] as string).toLowerCase() };
}

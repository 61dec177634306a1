// Text that must survive a trip through XML exactly. XML 1.0 can carry any Unicode
// scalar except most C0 controls and U+FFFE/U+FFFF; those values are rejected up front.

/** The first character XML 1.0 cannot carry at all, or undefined. */
export function findXmlIllegal(s: string): { index: number; codePoint: number } | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, codePoint: c };
    }
    const ok =
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd);
    if (!ok) return { index: i, codePoint: c };
  }
  return undefined;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};

/**
 * Escapes text for element content or a quoted attribute so a parser returns it unchanged:
 * besides the five specials, TAB/LF/CR become character references (attribute-value
 * normalisation would turn them into spaces, and line-end handling eats CR).
 */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\t\n\r]/g, (c) => ESCAPES[c] ?? c);
}

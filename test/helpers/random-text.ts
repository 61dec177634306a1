// Deterministic random strings full of XML and YAML specials, for property tests.

const PIECES = [
  "<",
  ">",
  "&",
  "'",
  '"',
  "]]>",
  "<![CDATA[",
  "-->",
  "<!--",
  "&amp;",
  "&#0;",
  "&lt;",
  "---",
  "...",
  ": ",
  " #",
  "#",
  "- ",
  "? ",
  "|",
  ">-",
  "*a",
  "&a",
  "!!str",
  "!tag",
  "%YAML",
  "@",
  "`",
  "{",
  "}",
  "[",
  "]",
  ",",
  "\n",
  "\r",
  "\r\n",
  "\t",
  " ",
  "  ",
  "\\",
  "\\n",
  "$HOME",
  "$(id)",
  "'\\''",
  "null",
  "~",
  "true",
  "no",
  "0x1F",
  "1e3",
  "0755",
  "=",
  "é",
  "ü",
  "ß",
  "日本",
  "🚀",
  "👩‍💻",
  "\u0301",
  "\u200b",
  "\u2028",
  "\u2029",
  "\u00a0",
  "\ufeff",
  "\ufffd",
  "\u0085",
  "\u007f",
  "\u202e",
  "a",
  "b",
  "xyz",
  "/",
  ".",
  "..",
];

/** A small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomText(next: () => number, maxPieces = 12): string {
  const n = Math.floor(next() * maxPieces);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (next() < 0.15) s += String.fromCodePoint(0x20 + Math.floor(next() * 0x2fff));
    else s += PIECES[Math.floor(next() * PIECES.length)];
  }
  return s;
}

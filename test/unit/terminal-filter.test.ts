// The terminal filter (src/core/terminal-filter.ts) and string escaping (terminal-text.ts):
// only text, TAB/LF/CR and SGR reach the terminal, however the bytes are split into chunks.
import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { CSI_MAX, TerminalFilter } from "../../src/core/terminal-filter.js";
import { escapeText, jsonSafe } from "../../src/core/terminal-text.js";

const E = "\x1b";

/** Filters `input` fed in pieces of `step` bytes (0: all at once), then flushes. */
function filter(input: string | Buffer, step = 0): string {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const f = new TerminalFilter();
  const out: Buffer[] = [];
  const n = step || bytes.length || 1;
  for (let i = 0; i < bytes.length; i += n) out.push(f.push(bytes.subarray(i, i + n)));
  out.push(f.flush());
  return Buffer.concat(out).toString("utf8");
}

/** What may reach the terminal: no control but TAB/LF/CR, except whole `ESC [ 0-9;: m`. */
function assertSafe(out: string): void {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const withoutSgr = out.replace(/\x1b\[[0-9;:]*m/g, "");
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  expect(withoutSgr).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
  expect(isUtf8(Buffer.from(out, "utf8"))).toBe(true);
}

describe("TerminalFilter", () => {
  test.each([
    ["plain text, TAB, CRLF", "a\tb\r\nc\n", "a\tb\r\nc\n"],
    [
      "SGR colours pass, and are reset at the end",
      `${E}[1;31mred${E}[0m ${E}[38:5:2mx`,
      `${E}[1;31mred${E}[0m ${E}[38:5:2mx${E}[0m`,
    ],
    ["clear screen", `${E}[2Jx`, "\\x1b[2Jx"],
    ["cursor moves and private modes", `${E}[10;1H${E}[?1049h`, "\\x1b[10;1H\\x1b[?1049h"],
    ["xterm modifyOtherKeys ends in m but is not SGR", `${E}[>4;2m`, "\\x1b[>4;2m"],
    ["OSC 52 clipboard write, BEL-terminated", `${E}]52;c;ZXZpbA==\x07ok`, "\\x1b]52;c;ZXZpbA==\\x07ok"],
    ["OSC title, ST-terminated", `${E}]0;pwned${E}\\ok`, "\\x1b]0;pwned\\x1b\\ok"],
    [
      "an ESC inside an OSC starts a new sequence (as in xterm)",
      `${E}]0;${E}[31m`,
      `\\x1b]0;${E}[31m${E}[0m`,
    ],
    ["DCS (DECRQSS answer-back)", `${E}P$q"p${E}\\`, '\\x1bP$q"p\\x1b\\'],
    ["APC, PM, SOS", `${E}_a${E}\\${E}^b${E}\\${E}Xc${E}\\`, "\\x1b_a\\x1b\\\\x1b^b\\x1b\\\\x1bXc\\x1b\\"],
    ["other escapes: reset, keypad, charset", `${E}c${E}=${E}(0`, "\\x1bc\\x1b=\\x1b(0"],
    ["C0 controls: BEL, BS, NUL, DEL", "a\x07\x08\x00\x7fb", "a\\x07\\x08\\x00\\x7fb"],
    ["C1 CSI encoded in UTF-8", "\u009b2J\u009d0;t\u009c", "\\u009b2J\\u009d0;t\\u009c"],
    ["8-bit CSI as a raw byte", Buffer.from([0x9b, 0x32, 0x4a, 0x41]), "\\x9b2JA"],
    [
      "invalid UTF-8 and a lone continuation",
      Buffer.from([0x41, 0xff, 0xc3, 0x28, 0x80]),
      "A\\xff\\xc3(\\x80",
    ],
    ["valid UTF-8 passes", "é € 😀 ünïcödé", "é € 😀 ünïcödé"],
    ["an 8-bit CSI SGR is kept in its 7-bit form", "\u009b31mx", `${E}[31mx${E}[0m`],
    ["CAN aborts a string", `${E}]0;x\x18${E}[1m`, `\\x1b]0;x\\x18${E}[1m${E}[0m`],
    ["ESC inside a CSI", `${E}[3${E}[1m`, `\\x1b[3${E}[1m${E}[0m`],
    ["newline inside a CSI", `${E}[3\nx`, "\\x1b[3\nx"],
    ["pending ESC at the end", `a${E}`, "a\\x1b"],
    ["pending CSI at the end", `a${E}[12`, "a\\x1b[12"],
    ["incomplete character at the end", Buffer.from([0x61, 0xe2, 0x82]), "a\\xe2\\x82"],
  ])("%s", (_what, input, expected) => {
    const whole = filter(input);
    expect(whole).toBe(expected);
    assertSafe(whole);
    for (const step of [1, 2, 3, 5]) expect(filter(input, step)).toBe(expected);
  });

  test("sequences split at every byte boundary give the same output", () => {
    const input = Buffer.from(`x${E}[31mr${E}]52;c;QQ==\x07é${E}[2J\u009b1m😀${E}P1$r${E}\\y`, "utf8");
    const whole = filter(input);
    for (let cut = 0; cut <= input.length; cut++) {
      const f = new TerminalFilter();
      const out = Buffer.concat([f.push(input.subarray(0, cut)), f.push(input.subarray(cut)), f.flush()]);
      expect(out.toString("utf8")).toBe(whole);
    }
  });

  test("random bytes: always safe, the same in any split", () => {
    for (let round = 0; round < 50; round++) {
      // bias towards the interesting bytes
      const pool = [0x1b, 0x5b, 0x5d, 0x50, 0x5c, 0x07, 0x6d, 0x3b, 0x31, 0x9b, 0x9c, 0x9d, 0xc2, 0xe2, 0x0a];
      const bytes = Buffer.from(
        [...randomBytes(400)].map((r, i) => (r % 3 === 0 ? (pool[i % pool.length] as number) : r)),
      );
      const whole = filter(bytes);
      assertSafe(whole);
      expect(filter(bytes, 7)).toBe(whole);
      expect(filter(bytes, 1)).toBe(whole);
    }
  });

  test("an unterminated OSC holds nothing: its bytes are shown as they come", () => {
    const f = new TerminalFilter();
    expect(f.push(Buffer.from(`${E}]52;c;`)).toString()).toBe("\\x1b]52;c;");
    const body = Buffer.alloc(1024 * 1024, 0x41);
    expect(f.push(body).length).toBe(body.length);
    expect(f.push(Buffer.from(`${E}[1m`)).toString()).toBe(`${E}[1m`);
    expect(f.flush().toString()).toBe(`${E}[0m`);
  });

  test("an over-long CSI is shown as text once it passes CSI_MAX, not held", () => {
    const f = new TerminalFilter();
    const params = "1;".repeat(CSI_MAX);
    const out = f.push(Buffer.from(`${E}[${params}m`)).toString();
    expect(out).toBe(`\\x1b[${params}m`);
    expect(f.flush().length).toBe(0);
  });
});

describe("escapeText and jsonSafe", () => {
  test("every control becomes visible; LF and TAB too unless lines", () => {
    const s = `run-1${E}]52;c;QQ==\x07\n\tx\r\u009b2J\u202eevil`;
    expect(escapeText(s)).toBe("run-1\\x1b]52;c;QQ==\\x07\\x0a\\x09x\\x0d\\u009b2J\\u202eevil");
    expect(escapeText(s, { lines: true })).toBe("run-1\\x1b]52;c;QQ==\\x07\n\tx\\x0d\\u009b2J\\u202eevil");
    expect(escapeText("plain/path é.txt")).toBe("plain/path é.txt");
  });

  test("jsonSafe escapes what JSON.stringify leaves raw, and means the same value", () => {
    const v = { t: `a${E}b\u009b\u007f\u2028\u202ec` };
    const json = jsonSafe(JSON.stringify(v));
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(json)).toEqual(v);
  });
});

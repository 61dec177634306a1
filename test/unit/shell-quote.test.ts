// POSIX quoting: exact round trips through the real sh (dash) and bash for nasty words.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildExecLine, checkShellArgv, quoteArgv, quoteWord } from "../../src/core/shell-quote.js";

/** What `SHELL -c "printf '%s\0' QUOTED"` hands to printf, split at NUL. */
function roundTrip(shell: string, argv: readonly string[]): string[] {
  const out = execFileSync(shell, ["-c", `printf '%s\\0' ${quoteArgv(argv)}`]);
  const words = out.toString("utf8").split("\0");
  expect(words.pop()).toBe("");
  return words;
}

const NASTY = [
  "plain",
  "two words",
  "",
  "'",
  "it's",
  `"double"`,
  "$HOME",
  "${PATH}",
  "$(touch /tmp/agentshare-quote-pwned)",
  "`id`",
  "a;b",
  "a|b&c",
  "line1\nline2\n",
  "tab\there",
  "*",
  "~",
  "#not-a-comment",
  "back\\slash",
  "!bang",
  "A=b",
  "-n",
  "--",
  "{a,b}",
  "ünïcødé ✓",
  "\r\u0001\u007f",
  "'''",
];

describe("quoteWord", () => {
  it("leaves plainly safe words alone and quotes the rest", () => {
    expect(quoteWord("ls")).toBe("ls");
    expect(quoteWord("/usr/bin/python3")).toBe("/usr/bin/python3");
    expect(quoteWord("--flag")).toBe("--flag");
    expect(quoteWord("")).toBe("''");
    expect(quoteWord("a b")).toBe("'a b'");
    expect(quoteWord("it's")).toBe(`'it'\\''s'`);
    expect(quoteWord("A=b")).toBe("'A=b'");
  });

  it("refuses a NUL byte", () => {
    expect(() => quoteWord("a\0b")).toThrow(/NUL/);
  });
});

describe("quoteArgv round trips exactly", () => {
  for (const shell of ["sh", "bash"]) {
    it(`through ${shell}`, () => {
      expect(roundTrip(shell, NASTY)).toEqual(NASTY);
      for (const w of NASTY) expect(roundTrip(shell, [w])).toEqual([w]);
    });
  }

  it("buildExecLine runs the program in place of the shell, arguments intact", () => {
    const line = buildExecLine(["sh", "-c", 'printf "%s\\0" "$PPID" "$@"', "sh", ...NASTY]);
    const out = execFileSync("sh", ["-c", `${line}; echo not-reached`, "outer"])
      .toString()
      .split("\0");
    expect(out.pop()).toBe("");
    // the inner sh replaced the outer one: its parent is the test process, not a shell
    expect(Number(out.shift())).toBe(process.pid);
    expect(out).toEqual(NASTY);
  });

  it("keeps a first word with `=` a command, not an assignment", () => {
    const out = execFileSync("sh", ["-c", `${quoteArgv(["A=b", "x"])} 2>&1 || true`]).toString();
    expect(out).toMatch(/A=b.*not found/);
  });
});

describe("checkShellArgv", () => {
  it("names what is wrong", () => {
    expect(checkShellArgv([])).toMatch(/no command given.*--/);
    expect(checkShellArgv(["", "x"])).toMatch(/must not be empty/);
    expect(checkShellArgv(["echo", "a", "b\0c"])).toMatch(/argument 3 contains a NUL byte/);
    expect(checkShellArgv(["-x"])).toMatch(/must be a program, not an option/);
    expect(checkShellArgv(["echo", "ok"])).toBeUndefined();
  });
});

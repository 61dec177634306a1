// POSIX sh quoting of an argv into one command string, for commands that travel as a string
// (an SSH exec request is run by the remote login shell as `$SHELL -c STRING`). Pure.

/** Words made only of these characters need no quoting in sh, bash, dash or zsh. */
const SAFE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/;

/** Why `argv` cannot be sent as a shell command, or undefined when it can. */
export function checkShellArgv(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return "no command given: put the command after `--`";
  if (argv[0] === "") return "the command (first word after `--`) must not be empty";
  if (argv[0]?.startsWith("-"))
    return `the command must be a program, not an option (${JSON.stringify(argv[0])})`;
  const i = argv.findIndex((a) => a.includes("\0"));
  if (i >= 0) return `argument ${i + 1} contains a NUL byte, which no Unix command line can carry`;
  return undefined;
}

/**
 * Quotes one word so that sh reads it back exactly: unchanged when it is plainly safe, else in
 * single quotes with each `'` written as `'\''`. `=` is always quoted so that a first word such
 * as `A=b` stays a command name instead of becoming a variable assignment.
 */
export function quoteWord(word: string): string {
  if (word.includes("\0")) throw new RangeError("a shell word cannot contain a NUL byte");
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes an argv into one string that sh splits back into exactly the same words. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteWord).join(" ");
}

/**
 * The shell line that runs `argv` as a program in place of the shell (`exec …`): the program
 * gets the signals sent to the session and its exit status is the session's, with no shell
 * between. Check the argv with checkShellArgv first.
 */
export function buildExecLine(argv: readonly string[]): string {
  return `exec ${quoteArgv(argv)}`;
}

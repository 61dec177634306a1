// One error tree for the whole program. Ops throw these; only src/cli/main.ts
// turns them into an exit code (sysexits.h numbers) and the two printed lines.

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class AgentshareError extends Error {
  readonly exitCode: number = 70;
  readonly hint: string | undefined;

  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Bad command line: unknown flag, missing argument (64, EX_USAGE). */
export class UsageError extends AgentshareError {
  override readonly exitCode = 64;
}

/** Input data is wrong: a bad agent name, a path that leaves its folder (65, EX_DATAERR). */
export class DataError extends AgentshareError {
  override readonly exitCode = 65;
}

/** Something named does not exist: agent, file, image (66, EX_NOINPUT). */
export class NotFoundError extends AgentshareError {
  override readonly exitCode = 66;
}

/** An outside tool or service failed or is missing: virsh, qemu-img, libvirtd (69, EX_UNAVAILABLE). */
export class ToolError extends AgentshareError {
  override readonly exitCode = 69;
}

/** A bug or an unexpected state of our own (70, EX_SOFTWARE). */
export class InternalError extends AgentshareError {
  override readonly exitCode = 70;
}

/** This user may not read or write a path: not root, or a mode that shuts it out (77, EX_NOPERM). */
export class NoPermissionError extends AgentshareError {
  override readonly exitCode = 77;
}

/** A temporary condition: the same command may work when tried again later (75, EX_TEMPFAIL). */
export class TempFailError extends AgentshareError {
  override readonly exitCode = 75;
}

/** The configuration is invalid; `problems` lists every one with its field path (78, EX_CONFIG). */
export class ConfigError extends AgentshareError {
  override readonly exitCode = 78;
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = [], opts: ErrorOptions = {}) {
    super(problems.length ? `${message}:\n  ${problems.join("\n  ")}` : message, opts);
    this.problems = problems;
  }
}

/** A failed command line, with the tool's last stderr lines, as a ToolError. */
export function toolError(
  argv: readonly string[],
  result: { exitCode: number | undefined; stderr: string },
  opts: ErrorOptions = {},
): ToolError {
  const tail = result.stderr.trim().split("\n").slice(-5).join("\n    ");
  const code = result.exitCode === undefined ? "was killed" : `exited ${result.exitCode}`;
  return new ToolError(`\`${argv.join(" ")}\` ${code}${tail ? `:\n    ${tail}` : ""}`, opts);
}

/** The file-system error codes that mean "not allowed", not "broken". */
const PERMISSION_CODES = new Set(["EACCES", "EPERM"]);

/**
 * A Node file-system error that says this user may not touch a path (EACCES, EPERM) as a
 * NoPermissionError naming the path and what to do; undefined for any other error.
 */
export function permissionErrorOf(err: unknown): NoPermissionError | undefined {
  if (!(err instanceof Error) || err instanceof AgentshareError) return undefined;
  const e = err as NodeJS.ErrnoException;
  if (!e.code || !PERMISSION_CODES.has(e.code) || typeof e.path !== "string") return undefined;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const what = e.syscall ? `${e.syscall} ${e.path}` : e.path;
  return new NoPermissionError(`permission denied: ${what} (${e.code})`, {
    hint: root
      ? `check the mode, owner and attributes of ${e.path} and its folders (ls -ld, lsattr)`
      : `run agentshare as root (sudo), or give this user access to ${e.path}`,
    cause: err,
  });
}

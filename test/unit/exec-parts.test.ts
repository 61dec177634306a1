// The pure parts of exec: the remote command line, signal exit codes, flag parsing.
import { expect, it } from "vitest";
import { parseExecFlags } from "../../src/cli/exec.js";
import { UsageError } from "../../src/errors.js";
import { buildRemoteCommand, signalExitCode } from "../../src/ops/exec.js";

it("buildRemoteCommand goes through agentshare-run (not re-pointing current) unless told not to, always with exec", () => {
  expect(buildRemoteCommand(["python3", "task.py", "a b"], true)).toBe(
    "exec agentshare-run --no-current -- python3 task.py 'a b'",
  );
  expect(buildRemoteCommand(["ls", "-la"], false)).toBe("exec ls -la");
  expect(() => buildRemoteCommand([], true)).toThrow(UsageError);
});

it("signalExitCode is 128+N like a shell's, 255 for an unknown name", () => {
  expect(signalExitCode("TERM")).toBe(143);
  expect(signalExitCode("SIGKILL")).toBe(137);
  expect(signalExitCode("INT")).toBe(130);
  expect(signalExitCode("NOPE")).toBe(255);
});

it("parseExecFlags builds the request and names a bad flag", () => {
  const base = { user: "agent", run: true, port: "22" };
  expect(parseExecFlags("web1", ["true"], { ...base, timeout: "5m", address: "10.0.0.5" })).toEqual({
    name: "web1",
    argv: ["true"],
    user: "agent",
    run: true,
    host: "10.0.0.5",
    port: 22,
    timeoutMs: 300_000,
  });
  expect(parseExecFlags("web1", ["true"], { ...base, timeout: "30" }).timeoutMs).toBe(30_000);
  expect(() => parseExecFlags("w", ["true"], { ...base, port: "70000" })).toThrow(/--port/);
  expect(() => parseExecFlags("w", ["true"], { ...base, timeout: "0" })).toThrow(/--timeout/);
  expect(() => parseExecFlags("w", ["true"], { ...base, address: "a b" })).toThrow(/--address "a b"/);
});

// Tests that need an outside tool: skipped on a developer machine without it,
// but a failure under CI (CI=true), where the project's scripts must have installed it.
import { execFileSync } from "node:child_process";
import { describe } from "vitest";

export function missingTools(names: readonly string[]): string[] {
  return names.filter((n) => {
    try {
      execFileSync("sh", ["-c", `command -v ${n}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
}

/** `describe` when every tool is there or under CI (where a missing tool must fail), else `describe.skip`. */
export function describeWithTools(names: readonly string[]) {
  const missing = missingTools(names);
  if (missing.length && !process.env.CI) {
    console.warn(`skipping: missing ${missing.join(", ")} (run scripts/host-setup.sh as root)`);
    return describe.skip;
  }
  return describe;
}

/** Throws when a tool is missing (call in beforeAll under describeWithTools). */
export function assertTools(names: readonly string[]): void {
  const missing = missingTools(names);
  if (missing.length)
    throw new Error(`missing tools: ${missing.join(", ")}; run scripts/host-setup.sh as root`);
}

export const isRoot = () => process.getuid?.() === 0;

import { describe, expect, it } from "vitest";
import { checkAgentName } from "../../src/core/names.js";

describe("checkAgentName", () => {
  it.each([["agent-01"], ["a"], ["a".repeat(63)], ["x1-y2-z3"], ["build-bot"]])("accepts %j", (name) => {
    expect(checkAgentName(name)).toBeUndefined();
  });

  it.each([
    ["", /empty/],
    ["Agent", /start with a lowercase letter/],
    ["1agent", /start with a lowercase letter/],
    ["-agent", /start with a lowercase letter/],
    ["agent_01", /only lowercase letters, digits and '-' \(found "_"\)/],
    ["agent.01", /found "\."/],
    ["agent 01", /found " "/],
    ["agent/../x", /found "\/"/],
    ["agenT", /found "T"/],
    ["ägent", /start with a lowercase letter/],
    ["agent-", /must not end with '-'/],
    ["a".repeat(64), /at most 63/],
    ["global", /reserved/],
    ["global-ro", /reserved/],
    ["staging", /reserved/],
    ["trash", /reserved/],
    ["all", /reserved/],
  ])("rejects %j", (name, rule) => {
    expect(checkAgentName(name)).toMatch(rule);
  });
});

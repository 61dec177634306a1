// The pure parts of prune: run names, the host-side age rule, and the retention planner as a table.
import { describe, expect, it } from "vitest";
import {
  UNFINISHED_GRACE_MS,
  mayBeActive,
  planRetention,
  resolveCurrentTarget,
  type CurrentRun,
  type PlanRun,
  type RetentionPolicy,
} from "../../src/core/retention.js";
import { formatRunName, isRunName, parseRunName } from "../../src/core/run-names.js";
import {
  CLOCK_SKEW_MS,
  effectiveTime,
  emptyRunsSeen,
  parseRunsSeen,
  updateRunsSeen,
} from "../../src/core/runs-seen.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 31, 12, 0, 0);
/** Runs r0 (newest) … rN-1, one day apart, each `size` bytes. */
const runs = (n: number, size = 100): PlanRun[] =>
  Array.from({ length: n }, (_, i) => ({
    name: formatRunName(new Date(T0 - i * DAY)),
    effective: T0 - i * DAY,
    size,
  }));
const name = (i: number) => formatRunName(new Date(T0 - i * DAY));
const none: CurrentRun = { kind: "none" };
const cur = (i: number): CurrentRun => ({ kind: "run", name: name(i) });
const pol = (
  keepLast: number,
  maxAgeDays: number | null,
  maxSize: number | null = null,
): RetentionPolicy => ({
  keepLast,
  maxAgeSec: maxAgeDays === null ? null : maxAgeDays * 86400,
  maxSizeBytes: maxSize,
});

describe("run names", () => {
  it.each([
    ["run-20250131-120000", Date.UTC(2025, 0, 31, 12), 0],
    ["run-20250131-120000-2", Date.UTC(2025, 0, 31, 12), 2],
    ["run-20240229-235959", Date.UTC(2024, 1, 29, 23, 59, 59), 0],
  ])("parses %s", (n, time, seq) => expect(parseRunName(n)).toEqual({ name: n, time, seq }));

  it.each([
    "run-20250230-120000",
    "run-20251301-000000",
    "run-20250101-246000",
    "run-2025011-120000",
    "run-20250101-120000-0",
    "run-20250101-120000-x",
    "xrun-20250101-120000",
    "run-20250101-120000/",
    "current",
    "..",
  ])("rejects %s", (n) => expect(isRunName(n)).toBe(false));

  it("formats in UTC and round-trips", () => {
    const d = new Date(Date.UTC(2025, 5, 7, 8, 9, 10));
    expect(formatRunName(d)).toBe("run-20250607-080910");
    expect(parseRunName(formatRunName(d, 3))?.time).toBe(d.getTime());
  });
});

describe("host-side age (effectiveTime)", () => {
  const seen = T0;
  const last = T0 - DAY;
  it.each([
    ["a plausible name is believed", T0 - 3600_000, last, T0 - 3600_000],
    ["a name in the future uses first-seen", T0 + 365 * DAY, last, seen],
    ["a name just within the skew is capped at first-seen", T0 + CLOCK_SKEW_MS, last, seen],
    ["a name older than the previous scan uses first-seen", T0 - 10 * DAY, last, seen],
    ["before any scan an old name is believed", T0 - 10 * DAY, null, T0 - 10 * DAY],
    ["no name time uses first-seen", undefined, last, seen],
  ] as const)("%s", (_what, claimed, lastScan, want) =>
    expect(effectiveTime(claimed, seen, lastScan)).toBe(want),
  );

  it("keeps first-seen entries across scans and forgets vanished runs", () => {
    const a = updateRunsSeen(emptyRunsSeen(), [name(1), name(2)], T0);
    const b = updateRunsSeen(a, [name(1), "run-29990101-000000"], T0 + DAY);
    expect(b.runs[name(1)]).toEqual(a.runs[name(1)]);
    expect(b.runs[name(2)]).toBeUndefined();
    expect(b.runs["run-29990101-000000"]).toEqual({ firstSeen: T0 + DAY, effective: T0 + DAY });
    expect(parseRunsSeen(JSON.stringify(b))).toEqual(b);
    expect(parseRunsSeen("{garbage")).toEqual(emptyRunsSeen());
    expect(
      parseRunsSeen('{"version":1,"runs":{"__proto__":{"firstSeen":1,"effective":1}}}').lastScan,
    ).toBeNull();
  });
});

describe("planRetention", () => {
  const del = (p: ReturnType<typeof planRetention>) => p.delete.map((d) => d.name).sort();
  const names = (...i: number[]) => i.map(name).sort();
  it.each([
    ["keep-last only (no age rule) deletes beyond N", runs(5), none, pol(2, null), names(2, 3, 4)],
    ["max-age keeps young runs beyond keep-last", runs(10), none, pol(2, 4.5), names(5, 6, 7, 8, 9)],
    ["current is never deleted", runs(6), cur(5), pol(1, 1), names(2, 3, 4)],
    ["current inside keep-last takes one of its places", runs(4), cur(0), pol(2, null), names(2, 3)],
    ["nothing to delete when all fit", runs(3), none, pol(5, 1), []],
    ["empty inbox", [], none, pol(2, 1), []],
    [
      "unknown current: delete nothing",
      runs(8),
      { kind: "unknown", target: "/etc" } as CurrentRun,
      pol(1, 1),
      [],
    ],
    [
      "current naming a missing run protects nothing extra",
      runs(4),
      { kind: "run", name: "run-19990101-000000" } as CurrentRun,
      pol(1, null),
      names(1, 2, 3),
    ],
    ["size cap deletes oldest first", runs(6, 100), none, pol(1, 30, 350), names(3, 4, 5)],
    ["size cap stops at the keep-last floor", runs(5, 100), none, pol(3, 30, 10), names(3, 4)],
    ["size cap spares current", runs(5, 100), cur(4), pol(1, 30, 150), names(1, 2, 3)],
  ] as const)("%s", (_what, input, current, policy, want) => {
    const plan = planRetention(input, current, policy);
    expect(del(plan)).toEqual(want);
    expect(plan.keep.length + plan.delete.length).toBe(input.length);
    if (current.kind === "run" && input.some((r) => r.name === current.name))
      expect(plan.keep).toContainEqual({ name: current.name, reason: "current" });
  });

  it("an active run is never deleted, not by keep-last, max-age or the size cap", () => {
    const input = runs(6, 100).map((r, i) => (i === 4 ? { ...r, active: true } : r));
    for (const policy of [pol(1, null), pol(1, 1), pol(1, 30, 1)]) {
      const plan = planRetention(input, cur(0), policy);
      expect(plan.keep).toContainEqual({ name: name(4), reason: "active" });
      expect(del(plan)).not.toContain(name(4));
    }
  });

  it("mayBeActive: only a run without metrics.json, for UNFINISHED_GRACE_MS after the host first saw it", () => {
    expect(mayBeActive(false, T0, T0 + UNFINISHED_GRACE_MS - 1)).toBe(true);
    expect(mayBeActive(false, T0, T0 + UNFINISHED_GRACE_MS)).toBe(false);
    expect(mayBeActive(true, T0, T0)).toBe(false);
  });

  it("max-age counts from the newest run: a stalled agent keeps its last runs", () => {
    const stalled = runs(5).map((r) => ({ ...r, effective: r.effective - 400 * DAY }));
    expect(del(planRetention(stalled, none, pol(1, 2)))).toEqual(names(3, 4));
  });

  it("never keeps fewer than keep-last, whatever the ages", () => {
    for (let k = 1; k <= 6; k++) {
      const plan = planRetention(runs(6), none, pol(k, 0.0001, 1));
      expect(plan.keep.length).toBe(k);
      expect(plan.keep.map((x) => x.name)).toEqual(Array.from({ length: k }, (_, i) => name(i)));
    }
  });
});

describe("resolveCurrentTarget", () => {
  const isRun = isRunName;
  it.each([
    ["runs/run-20250101-000000", { kind: "run", name: "run-20250101-000000" }],
    ["./runs/run-20250101-000000/", { kind: "run", name: "run-20250101-000000" }],
    ["/mnt/inbox/runs/run-20250101-000000", { kind: "run", name: "run-20250101-000000" }],
    ["/srv/agentshare/a-inbox/runs/run-20250101-000000", { kind: "run", name: "run-20250101-000000" }],
    ["/etc", { kind: "unknown", target: "/etc" }],
    ["runs/../../x", { kind: "unknown", target: "runs/../../x" }],
    ["runs/run-20250101-000000/../../etc", { kind: "unknown", target: "runs/run-20250101-000000/../../etc" }],
  ])("%s", (target, want) =>
    expect(resolveCurrentTarget(target, "/srv/agentshare/a-inbox", isRun)).toEqual(want),
  );
  it("no current", () => expect(resolveCurrentTarget(null, "/x", isRun)).toEqual({ kind: "none" }));
});

// The retention planner: which runs of one inbox prune deletes. Pure; prune applies it.
// A run is kept when any rule keeps it: it is `current`, it is among the newest keepLast,
// it may still be active (no metrics.json and first seen by the host less than
// UNFINISHED_GRACE_MS ago), it is younger than maxAge (counted from the newest run, so a stalled agent keeps its
// history), or the size cap does not need it gone. The size cap never digs below the
// keep-last floor, and when `current` cannot be resolved nothing is deleted at all.

export interface RetentionPolicy {
  keepLast: number;
  /** Seconds, or null for no age rule. */
  maxAgeSec: number | null;
  /** Bytes, or null for no size cap. */
  maxSizeBytes: number | null;
}

export interface PlanRun {
  name: string;
  /** The time the run is aged from (ms), from the host-side record (core/runs-seen.ts). */
  effective: number;
  /** Bytes on disk, when measured; needed only for the size cap. */
  size?: number;
  /** The run may still be written to (see `mayBeActive`): never deleted. */
  active?: boolean;
}

/**
 * How long a run without metrics.json is presumed active, counted from when the host first
 * saw it: the host cannot tell a live run from a crashed one (the guest's word is no proof),
 * so an unfinished run is kept for this long. Only the host's own first-seen time counts.
 */
export const UNFINISHED_GRACE_MS = 7 * 86_400_000;

/** True when a run without metrics.json is within the grace period (a finished run never is). */
export const mayBeActive = (finished: boolean, firstSeen: number, now: number): boolean =>
  !finished && now - firstSeen < UNFINISHED_GRACE_MS;

/** `current` resolved to a run name, absent (`null`), or pointing somewhere unknown. */
export type CurrentRun =
  { kind: "run"; name: string } | { kind: "none" } | { kind: "unknown"; target: string };

export type KeepReason = "current" | "keep-last" | "active" | "max-age" | "max-size" | "current-unknown";
export type DeleteReason = "max-age" | "keep-last" | "max-size";

export interface RetentionPlan {
  keep: { name: string; reason: KeepReason }[];
  delete: { name: string; reason: DeleteReason }[];
}

const newestFirst = (a: PlanRun, b: PlanRun) =>
  b.effective - a.effective || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/** Decides which runs to delete. Deterministic: the same input gives the same plan. */
export function planRetention(
  runs: readonly PlanRun[],
  current: CurrentRun,
  policy: RetentionPolicy,
): RetentionPlan {
  const sorted = [...runs].sort(newestFirst);
  if (current.kind === "unknown")
    return { keep: sorted.map((r) => ({ name: r.name, reason: "current-unknown" })), delete: [] };
  const anchor = sorted[0]?.effective ?? 0;
  const keepLast = Math.max(1, Math.floor(policy.keepLast));
  const keep = new Map<string, KeepReason>();
  const victims: { name: string; reason: DeleteReason }[] = [];
  const ageKept: PlanRun[] = [];
  sorted.forEach((run, i) => {
    if (current.kind === "run" && run.name === current.name) keep.set(run.name, "current");
    else if (i < keepLast) keep.set(run.name, "keep-last");
    else if (run.active) keep.set(run.name, "active");
    else if (policy.maxAgeSec === null) victims.push({ name: run.name, reason: "keep-last" });
    else if (anchor - run.effective <= policy.maxAgeSec * 1000) ageKept.push(run);
    else victims.push({ name: run.name, reason: "max-age" });
  });
  const sizeVictims = applySizeCap(sorted, keep, ageKept, victims, policy.maxSizeBytes);
  for (const run of ageKept) if (!sizeVictims.has(run.name)) keep.set(run.name, "max-age");
  for (const name of sizeVictims) victims.push({ name, reason: "max-size" });
  const order = new Map(sorted.map((r, i) => [r.name, i]));
  victims.sort((a, b) => (order.get(b.name) ?? 0) - (order.get(a.name) ?? 0));
  return {
    keep: sorted
      .filter((r) => keep.has(r.name))
      .map((r) => ({ name: r.name, reason: keep.get(r.name) as KeepReason })),
    delete: victims,
  };
}

/** Oldest age-kept runs that must go so the kept total fits the cap (never floor or current). */
function applySizeCap(
  sorted: readonly PlanRun[],
  keep: ReadonlyMap<string, KeepReason>,
  ageKept: readonly PlanRun[],
  victims: readonly { name: string }[],
  cap: number | null,
): Set<string> {
  const out = new Set<string>();
  if (cap === null) return out;
  const gone = new Set(victims.map((v) => v.name));
  let total = sorted.filter((r) => !gone.has(r.name)).reduce((n, r) => n + (r.size ?? 0), 0);
  for (let i = ageKept.length - 1; i >= 0 && total > cap; i--) {
    const run = ageKept[i] as PlanRun;
    if (keep.has(run.name)) continue;
    out.add(run.name);
    total -= run.size ?? 0;
  }
  return out;
}

/** Resolves what `current` points to (its readlink text) into a run name, lexically. */
export function resolveCurrentTarget(
  target: string | null,
  inboxHostPath: string,
  isRun: (n: string) => boolean,
): CurrentRun {
  if (target === null) return { kind: "none" };
  const prefixes = ["runs/", "./runs/", "/mnt/inbox/runs/", `${inboxHostPath.replace(/\/+$/, "")}/runs/`];
  for (const prefix of prefixes) {
    if (!target.startsWith(prefix)) continue;
    const name = target.slice(prefix.length).replace(/\/+$/, "");
    if (isRun(name)) return { kind: "run", name };
  }
  return { kind: "unknown", target };
}

// The host's own record of when it first saw each run, so run ages never rest on
// guest-controlled data alone (file mtimes are ignored; run names are checked against it).
import { parseRunName } from "./run-names.js";

/** Clock skew allowed between guest and host when checking a run name's claimed time. */
export const CLOCK_SKEW_MS = 10 * 60 * 1000;

export interface SeenEntry {
  /** When the host first listed this run (ms). */
  firstSeen: number;
  /** The time used for its age (ms), fixed when first seen; see `effectiveTime`. */
  effective: number;
}

export interface RunsSeen {
  version: 1;
  /** The previous scan of this inbox (ms), or null before the first one. */
  lastScan: number | null;
  runs: Record<string, SeenEntry>;
}

export const emptyRunsSeen = (): RunsSeen => ({ version: 1, lastScan: null, runs: {} });

/**
 * The time a newly seen run is aged from. The name's time is believed only when it is
 * plausible: not after the moment the host first saw the run (plus skew: it cannot have
 * been created later than it was seen) and not before the previous scan (minus skew: it
 * was not there then). Otherwise the host's first-seen time is used, which is never older
 * than the truth, so a lying name can only make its own run look younger.
 */
export function effectiveTime(
  claimed: number | undefined,
  firstSeen: number,
  lastScan: number | null,
): number {
  if (claimed === undefined) return firstSeen;
  if (claimed > firstSeen + CLOCK_SKEW_MS) return firstSeen;
  if (lastScan !== null && claimed < lastScan - CLOCK_SKEW_MS) return firstSeen;
  return Math.min(claimed, firstSeen);
}

/** Records a scan at `now` listing `names`: keeps known entries, adds new ones, drops vanished ones. */
export function updateRunsSeen(prev: RunsSeen, names: readonly string[], now: number): RunsSeen {
  const runs: Record<string, SeenEntry> = {};
  for (const name of names) {
    const known = Object.hasOwn(prev.runs, name) ? prev.runs[name] : undefined;
    runs[name] = known ?? {
      firstSeen: now,
      effective: effectiveTime(parseRunName(name)?.time, now, prev.lastScan),
    };
  }
  return { version: 1, lastScan: now, runs };
}

/** Parses the stored JSON; anything malformed yields an empty record (the conservative choice). */
export function parseRunsSeen(text: string): RunsSeen {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return emptyRunsSeen();
  }
  if (typeof data !== "object" || data === null) return emptyRunsSeen();
  const d = data as Record<string, unknown>;
  const runsIn = d.runs;
  if (d.version !== 1 || typeof runsIn !== "object" || runsIn === null) return emptyRunsSeen();
  const runs: Record<string, SeenEntry> = {};
  for (const [name, v] of Object.entries(runsIn as Record<string, unknown>)) {
    const e = v as Partial<SeenEntry> | null;
    if (e && Number.isFinite(e.firstSeen) && Number.isFinite(e.effective))
      runs[name] = { firstSeen: e.firstSeen as number, effective: e.effective as number };
  }
  const lastScan = typeof d.lastScan === "number" && Number.isFinite(d.lastScan) ? d.lastScan : null;
  return { version: 1, lastScan, runs };
}

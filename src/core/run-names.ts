// Run directory names: run-YYYYmmdd-HHMMSS with an optional -N uniqueness suffix, in UTC.
// The guest picks these names, so the timestamp they carry is a claim, never a fact.

export const RUN_NAME_PATTERN = /^run-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-([1-9]\d{0,5}))?$/;

export interface RunName {
  name: string;
  /** The time the name claims, in ms since the epoch (UTC). */
  time: number;
  /** The -N suffix, 0 when absent. */
  seq: number;
}

/** Parses a run name; undefined when it does not match the pattern or names an impossible date. */
export function parseRunName(name: string): RunName | undefined {
  const m = RUN_NAME_PATTERN.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(time);
  const same =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  if (!same) return undefined;
  return { name, time, seq: m[7] === undefined ? 0 : Number(m[7]) };
}

/** True when `name` is a well-formed run name (the only names prune ever deletes). */
export const isRunName = (name: string): boolean => parseRunName(name) !== undefined;

/** Builds the run name for `date` (UTC), with `-seq` when seq > 0. */
export function formatRunName(date: Date, seq = 0): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp =
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  return `run-${stamp}${seq > 0 ? `-${seq}` : ""}`;
}

/** Orders runs newest first by claimed time, then by suffix, then by name (total, deterministic). */
export function compareRunNamesNewestFirst(a: RunName, b: RunName): number {
  return b.time - a.time || b.seq - a.seq || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

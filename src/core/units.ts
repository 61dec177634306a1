// Sizes ("20G", "512m") and durations ("30d", "12h") as operators write them.

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses "20G", "512M", "1.5g", "4096" (bytes) into bytes; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? "").toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** Parses "90s", "15m", "12h", "30d", "2w" into seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdw])$/i.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (DURATION_UNITS[(m[2] ?? "").toLowerCase()] ?? NaN);
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

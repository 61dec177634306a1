// Whether the shares are mounted in the guest, and how: /proc/self/mountinfo read with the one
// parser in src/core/mountinfo.ts (pure, no dependencies, so the guest bundle takes it in).
import { mountAt, type MountEntry } from "../core/mountinfo.js";

export { parseMountinfo, type MountEntry } from "../core/mountinfo.js";

export interface MountCheck {
  path: string;
  mounted: boolean;
  fsType: string | null;
  readOnly: boolean | null;
  expected: "ro" | "rw";
  ok: boolean;
}

/** Whether `path` is a mount point (the last mount there wins) with the expected access. */
export function checkMount(entries: readonly MountEntry[], path: string, expected: "ro" | "rw"): MountCheck {
  const e = mountAt(entries, path);
  if (!e) return { path, mounted: false, fsType: null, readOnly: null, expected, ok: false };
  const readOnly = e.options.includes("ro");
  return { path, mounted: true, fsType: e.fsType, readOnly, expected, ok: readOnly === (expected === "ro") };
}

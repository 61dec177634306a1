// Parses /proc/self/mountinfo (proc(5)) to tell whether the shares are mounted, and how.

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  readOnly: boolean;
}

const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** One entry per well-formed line; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0 || f[4] === undefined || f[5] === undefined) continue;
    out.push({
      mountPoint: unescape(f[4]),
      fsType: f[dash + 1] ?? "",
      source: unescape(f[dash + 2] ?? ""),
      readOnly: f[5].split(",").includes("ro"),
    });
  }
  return out;
}

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
  const want = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const e = entries.filter((m) => m.mountPoint === want).at(-1);
  if (!e) return { path, mounted: false, fsType: null, readOnly: null, expected, ok: false };
  return {
    path,
    mounted: true,
    fsType: e.fsType,
    readOnly: e.readOnly,
    expected,
    ok: e.readOnly === (expected === "ro"),
  };
}

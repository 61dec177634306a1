// /proc/self/mountinfo → mount entries, and the questions mount.ts and doctor ask of them:
// is a path a mount point, is it read-only, is it a bind of a given directory. Pure.

export interface MountEntry {
  id: number;
  parentId: number;
  /** "major:minor" of the file system. */
  device: string;
  /** Path inside the file system that is mounted here ("/" unless a bind of a subfolder). */
  root: string;
  mountPoint: string;
  /** Per-mount options: "ro" here is what makes a bind mount read-only. */
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as \040 \011 \012 \134.
const unescapeMount = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** Parses one mountinfo line (proc(5)); undefined for a line that does not have the shape. */
export function parseMountinfoLine(line: string): MountEntry | undefined {
  const fields = line.trim().split(" ");
  const sep = fields.indexOf("-", 6);
  if (sep < 0 || fields.length < sep + 4) return undefined;
  const [id, parentId, device, root, mountPoint, options] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^\d+$/.test(id) || !/^\d+$/.test(parentId) || !/^\d+:\d+$/.test(device)) return undefined;
  return {
    id: Number(id),
    parentId: Number(parentId),
    device,
    root: unescapeMount(root),
    mountPoint: unescapeMount(mountPoint),
    options: options.split(","),
    fsType: unescapeMount(fields[sep + 1] as string),
    source: unescapeMount(fields[sep + 2] as string),
    superOptions: (fields[sep + 3] as string).split(","),
  };
}

/** Parses the whole of /proc/self/mountinfo, in mount order; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map(parseMountinfoLine)
    .filter((e): e is MountEntry => e !== undefined);
}

const stripSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, "") : p);

/** The mount mounted last (the visible one) exactly at `path`, or undefined: `path` is not a mount point. */
export function mountAt(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const want = stripSlash(path);
  return entries.findLast((e) => e.mountPoint === want);
}

/** The mount that holds `path` (longest mount point that is a prefix of it, last mounted wins). */
export function mountContaining(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const want = stripSlash(path);
  let best: MountEntry | undefined;
  for (const e of entries) {
    const inside = e.mountPoint === "/" || want === e.mountPoint || want.startsWith(`${e.mountPoint}/`);
    if (inside && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/** Where `path` lives inside its file system: its device and the path from that file system's root. */
export function fsLocation(
  entries: readonly MountEntry[],
  path: string,
): { device: string; root: string } | undefined {
  const m = mountContaining(entries, path);
  if (!m) return undefined;
  const want = stripSlash(path);
  const rest = m.mountPoint === "/" ? want : want.slice(m.mountPoint.length);
  const root = stripSlash(`${m.root === "/" ? "" : m.root}${rest}`) || "/";
  return { device: m.device, root: root.startsWith("/") ? root : `/${root}` };
}

export interface BindState {
  /** `target` is a mount point. */
  mounted: boolean;
  /** It shows `source`'s folder (same device and path inside it). */
  bindOfSource: boolean;
  readOnly: boolean;
  entry?: MountEntry;
}

/** How `target` relates to `source`: not mounted, mounted from elsewhere, a rw bind or a ro bind of it. */
export function bindState(entries: readonly MountEntry[], source: string, target: string): BindState {
  const entry = mountAt(entries, target);
  if (!entry) return { mounted: false, bindOfSource: false, readOnly: false };
  const src = fsLocation(entries, source);
  const bindOfSource = !!src && src.device === entry.device && src.root === entry.root;
  return { mounted: true, bindOfSource, readOnly: entry.options.includes("ro"), entry };
}

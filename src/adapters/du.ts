// Disk usage of guest-written trees through GNU du: it walks with fd-relative calls, never
// follows symlinks (-P is its default), stays on one file system (-x) and counts a
// hardlinked file once. -0 ends each line with NUL, so odd names cannot break the parse.
import type { Runner } from "./runner.js";
import { walkTreeSizes } from "./tree-size.js";

/** `du` argv listing bytes on disk for `dir` and every directory up to `depth` below it. */
export const duArgv = (dir: string, depth: number): string[] => [
  "-x",
  "-B1",
  "-0",
  `--max-depth=${depth}`,
  "--",
  dir,
];

/** Parses `du -B1 -0` output ("<bytes>\t<path>\0" records) into path → bytes. */
export function parseDuNull(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const rec of stdout.split("\0")) {
    if (rec === "" || rec === "\n") continue;
    const tab = rec.indexOf("\t");
    const bytes = Number(rec.slice(0, tab));
    if (tab <= 0 || !Number.isFinite(bytes)) continue;
    out.set(rec.slice(tab + 1), bytes);
  }
  return out;
}

/** Measures `dir` (a trusted host path) and its directories down to `depth`; never fails on a racing guest. */
export async function measureTree(run: Runner, dir: string, depth: number): Promise<Map<string, number>> {
  const r = await run("du", duArgv(dir, depth));
  if (r.exitCode === 0) return parseDuNull(r.stdout);
  // du exits 1 when something vanished mid-walk and aborts (SIGABRT) when folders are swapped
  // under it, both of which a guest can cause: then walk in-process, which skips such entries.
  return walkTreeSizes(dir, depth);
}

// A hostile guest for prune-race.test.ts, run as its own process: until SIGTERM it keeps
// swapping run directories, their subfolders and runs/ itself for symlinks to canary
// folders outside the inbox, and creating files; on SIGTERM it puts everything back.
// Usage: node prune-adversary.mjs INBOX CANARY CANARY_RUNS
import { mkdirSync, readdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";

const [inbox, canary, canaryRuns] = process.argv.slice(2);
const runs = join(inbox, "runs");
const stash = join(inbox, ".stash");
mkdirSync(stash, { recursive: true });
const swappedRuns = new Set();
const swappedSubs = new Set();
let runsSwapped = false;
let ops = 0;
let stop = false;
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const attempt = (f) => {
  try {
    f();
    ops++;
  } catch {
    /* the other side moved it first: that is the point */
  }
};
const list = () => {
  if (runsSwapped) throw new Error("runs/ is swapped: touch nothing below it (it is the canary now)");
  try {
    return readdirSync(runs).filter((n) => n.startsWith("run-"));
  } catch {
    return [];
  }
};

const actions = [
  () => {
    const r = pick(list().filter((n) => !swappedRuns.has(n) && !swappedSubs.has(n)));
    if (!r) return;
    renameSync(join(runs, r), join(stash, r));
    swappedRuns.add(r);
    symlinkSync(canary, join(runs, r));
  },
  () => restoreRun(pick([...swappedRuns])),
  () => {
    const r = pick(list().filter((n) => !swappedRuns.has(n) && !swappedSubs.has(n)));
    if (!r) return;
    renameSync(join(runs, r, "outputs"), join(runs, r, ".outputs-stash"));
    swappedSubs.add(r);
    symlinkSync(canary, join(runs, r, "outputs"));
  },
  () => restoreSub(pick([...swappedSubs])),
  () => writeFileSync(join(runs, realRun(), `spam-${ops}`), "spam"),
  () => writeFileSync(join(runs, realRun(), "trace", `spam-${ops}`), "spam"),
  () => {
    if (runsSwapped) return restoreRunsDir();
    renameSync(runs, join(inbox, ".runs-stash"));
    runsSwapped = true;
    symlinkSync(canaryRuns, runs);
  },
];

/** A run that is a real folder right now (so the adversary's own writes stay in the inbox). */
function realRun() {
  if (runsSwapped) throw new Error("runs/ is swapped");
  const r = pick(list().filter((n) => !swappedRuns.has(n)));
  if (!r) throw new Error("no run");
  return r;
}

function restoreRun(r) {
  if (!r || runsSwapped) return;
  swappedRuns.delete(r);
  try {
    unlinkSync(join(runs, r));
  } catch {
    /* prune moved the symlink away */
  }
  renameSync(join(stash, r), join(runs, r));
}
function restoreSub(r) {
  if (!r || runsSwapped) return;
  swappedSubs.delete(r);
  unlinkSync(join(runs, r, "outputs"));
  renameSync(join(runs, r, ".outputs-stash"), join(runs, r, "outputs"));
}
function restoreRunsDir() {
  if (!runsSwapped) return;
  runsSwapped = false;
  unlinkSync(runs);
  renameSync(join(inbox, ".runs-stash"), runs);
}

process.on("SIGTERM", () => {
  stop = true;
});
process.stdout.write("ready\n");
while (!stop) {
  attempt(pick(actions));
  if (ops % 8 === 0) await tick();
}
attempt(restoreRunsDir);
for (const r of [...swappedSubs]) attempt(() => restoreSub(r));
for (const r of [...swappedRuns]) attempt(() => restoreRun(r));
process.stdout.write(`ops ${ops}\n`);

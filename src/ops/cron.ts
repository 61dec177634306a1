// cron install/remove: schedules `agentshare prune --all` with the current node, CLI script
// and global options, as /etc/cron.d/agentshare or (with --timer, where systemd runs) a
// systemd service + timer. Installing again replaces the files atomically (idempotent).
import { dirname, join, resolve } from "node:path";
import {
  buildCronFile,
  buildServiceUnit,
  buildTimerUnit,
  cronToOnCalendar,
  validateSchedule,
  type JobSpec,
} from "../adapters/cron.js";
import { runChecked } from "../adapters/runner.js";
import type { OpContext } from "./context.js";
import { DEFAULT_UNIT_DIR } from "../core/paths.js";
import { NotFoundError, ToolError, UsageError } from "../errors.js";

export const UNIT_NAME = "agentshare-prune";

export interface CronTargets {
  cronFile: string;
  unitDir: string;
  /** Exists when systemd is the running init (overridable for tests). */
  systemdMarker: string;
}

export interface CronInstallOptions extends CronTargets {
  schedule: string;
  timer: boolean;
  /** The CLI script the job runs (default: this process's, right when the CLI itself installs). */
  script?: string;
}

/** The job: this node, this CLI script, the global options in force, then `prune --all`. */
export function jobFor(ctx: OpContext, schedule: string, script = process.argv[1] ?? ""): JobSpec {
  const argv = [
    process.execPath,
    resolve(script),
    "--root",
    resolve(ctx.opts.root),
    "--state-dir",
    resolve(ctx.opts.stateDir),
  ];
  if (ctx.opts.config) argv.push("--config", resolve(ctx.opts.config));
  argv.push("prune", "--all");
  return { schedule, argv, logFile: join(resolve(ctx.opts.stateDir), "prune.log") };
}

/** Writes the schedule; returns the files written. */
export async function cronInstall(
  ctx: OpContext,
  opts: CronInstallOptions,
): Promise<{ files: string[]; job: JobSpec }> {
  const problems = validateSchedule(opts.schedule);
  if (problems.length)
    throw new UsageError(`--schedule: ${problems.join("; ")}`, {
      hint: 'use 5 cron fields, e.g. "17 3 * * *" (03:17 daily)',
    });
  const job = jobFor(ctx, opts.schedule, opts.script);
  await ctx.host.ensureStateDir(ctx.paths.stateDir);
  if (opts.timer) return { files: await installTimer(ctx, opts, job), job };
  if ((await ctx.host.lstat(dirname(opts.cronFile)))?.kind !== "dir")
    throw new NotFoundError(`${dirname(opts.cronFile)} does not exist`, {
      hint: "install cron (`apt-get install cron`), or use --timer where systemd runs",
    });
  await ctx.host.writeFileAtomic(opts.cronFile, buildCronFile(job), 0o644);
  return { files: [opts.cronFile], job };
}

async function installTimer(ctx: OpContext, opts: CronInstallOptions, job: JobSpec): Promise<string[]> {
  if (!(await ctx.host.lstat(opts.systemdMarker)))
    throw new ToolError(`systemd is not running on this host (${opts.systemdMarker} does not exist)`, {
      hint: "omit --timer to use cron",
    });
  const onCalendar = cronToOnCalendar(opts.schedule);
  if (!onCalendar)
    throw new UsageError(`--schedule "${opts.schedule}" has no exact systemd OnCalendar equivalent`, {
      hint: "use numbers, lists, ranges and */N steps, and not both day fields",
    });
  await ctx.host.mkdir(opts.unitDir, { recursive: true, mode: 0o755 });
  const service = join(opts.unitDir, `${UNIT_NAME}.service`);
  const timer = join(opts.unitDir, `${UNIT_NAME}.timer`);
  await ctx.host.writeFileAtomic(service, buildServiceUnit(job), 0o644);
  await ctx.host.writeFileAtomic(timer, buildTimerUnit(onCalendar), 0o644);
  if (opts.unitDir === DEFAULT_UNIT_DIR) {
    await runChecked(ctx.run, "systemctl", ["daemon-reload"]);
    await runChecked(ctx.run, "systemctl", ["enable", "--now", `${UNIT_NAME}.timer`]);
  }
  return [service, timer];
}

/** Removes whatever `cron install` wrote; returns the files removed (none is not an error). */
export async function cronRemove(ctx: OpContext, t: CronTargets): Promise<string[]> {
  const removed: string[] = [];
  const timer = join(t.unitDir, `${UNIT_NAME}.timer`);
  if (
    (await ctx.host.lstat(timer)) &&
    t.unitDir === DEFAULT_UNIT_DIR &&
    (await ctx.host.lstat(t.systemdMarker))
  )
    await ctx.run("systemctl", ["disable", "--now", `${UNIT_NAME}.timer`]);
  for (const f of [t.cronFile, timer, join(t.unitDir, `${UNIT_NAME}.service`)]) {
    if (!(await ctx.host.lstat(f))) continue;
    await ctx.host.rm(f);
    removed.push(f);
  }
  return removed;
}

// Scheduling `agentshare prune --all`: a cron.d file, or a systemd service + timer where
// systemd runs. The builders and the schedule check are pure; writing is in ops/cron.ts.

const FIELDS = [
  { name: "minute", min: 0, max: 59, names: [] as string[] },
  { name: "hour", min: 0, max: 23, names: [] as string[] },
  { name: "day of month", min: 1, max: 31, names: [] as string[] },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;

type Field = (typeof FIELDS)[number];

function checkValue(v: string, f: Field): string | undefined {
  const idx = f.names.indexOf(v.toLowerCase() as never);
  if (idx >= 0) return undefined;
  if (!/^\d+$/.test(v)) return `${f.name}: "${v}" is not a number${f.names.length ? " or a name" : ""}`;
  const n = Number(v);
  if (n < f.min || n > f.max) return `${f.name}: ${n} is outside ${f.min}-${f.max}`;
  return undefined;
}

function checkField(text: string, f: Field): string[] {
  const problems: string[] = [];
  for (const item of text.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m || m[2] === "0") {
      problems.push(`${f.name}: "${item}" is not a value, range or step`);
      continue;
    }
    const base = m[1] as string;
    if (base === "*") continue;
    for (const v of base.split("-").length <= 2 ? base.split("-") : [base]) {
      const p = checkValue(v, f);
      if (p) problems.push(p);
    }
  }
  return problems;
}

/** Every problem with a 5-field cron schedule ("17 3 * * *"); empty when valid. */
export function validateSchedule(schedule: string): string[] {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5 || schedule.trim() === "")
    return [
      `must have 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}: "${schedule}"`,
    ];
  return parts.flatMap((p, i) => checkField(p, FIELDS[i] as Field));
}

/** Quotes one word for /bin/sh and escapes cron's "%" (which would start stdin). */
export const shellWord = (s: string): string =>
  /^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`.replace(/%/g, "\\%");

export interface JobSpec {
  schedule: string;
  /** The full command line: node, the CLI script, global options, "prune", "--all". */
  argv: readonly string[];
  logFile: string;
}

/** The /etc/cron.d/agentshare file (runs as root, output appended to the log file). */
export function buildCronFile(job: JobSpec): string {
  const cmd = `${job.argv.map(shellWord).join(" ")} >>${shellWord(job.logFile)} 2>&1`;
  return [
    "# Written by `agentshare cron install`; remove with `agentshare cron remove`.",
    "SHELL=/bin/sh",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `${job.schedule.trim().split(/\s+/).join(" ")} root ${cmd}`,
    "",
  ].join("\n");
}

const systemdWord = (s: string) =>
  /^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, "\\$1")}"`;

/** The systemd service that runs one prune. */
export function buildServiceUnit(job: JobSpec): string {
  return [
    "[Unit]",
    "Description=agentshare: prune old agent runs",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${job.argv.map(systemdWord).join(" ").replace(/%/g, "%%")}`,
    `StandardOutput=append:${job.logFile}`,
    `StandardError=append:${job.logFile}`,
    "",
  ].join("\n");
}

/** Converts a simple cron schedule to systemd OnCalendar; undefined when it has no exact equivalent. */
export function cronToOnCalendar(schedule: string): string | undefined {
  const [mi, h, dom, mon, dow] = schedule.trim().split(/\s+/) as [string, string, string, string, string];
  if (dom !== "*" && dow !== "*") return undefined; // cron ORs these two; systemd ANDs them
  const conv = (f: string, pad: boolean): string | undefined => {
    if (f === "*") return "*";
    if (/^\*\/\d+$/.test(f)) return `00/${f.slice(2)}`;
    if (!/^[\d,-]+$/.test(f)) return undefined;
    return f.replace(/(\d+)-(\d+)/g, "$1..$2").replace(/\d+/g, (d) => (pad ? d.padStart(2, "0") : d));
  };
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const dowText =
    dow === "*"
      ? ""
      : /^[\d,-]+$/.test(dow)
        ? `${dow.replace(/\d/g, (d) => days[Number(d)] ?? d).replace(/-/g, "..")} `
        : undefined;
  const parts = [conv(mon, true), conv(dom, true), conv(h, true), conv(mi, true)];
  if (dowText === undefined || parts.some((p) => p === undefined)) return undefined;
  return `${dowText}*-${parts[0]}-${parts[1]} ${parts[2]}:${parts[3]}:00`;
}

/** The systemd timer that starts the service on `onCalendar`. */
export function buildTimerUnit(onCalendar: string): string {
  return [
    "[Unit]",
    "Description=agentshare: prune old agent runs on a schedule",
    "",
    "[Timer]",
    `OnCalendar=${onCalendar}`,
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

// How a finished run ended, from its metrics.json (docs/runs.md): one reading for the guest's
// health server (the `exit` event) and the host's status. Pure; the document is guest-written.

/** At most this many persist errors, each at most this long, are kept from a metrics.json or an event. */
export const EXIT_ERRORS_MAX = 8;
export const EXIT_ERROR_LEN = 300;

export interface RunExit {
  exitCode: number | null;
  /** false when some of the run's output did not reach its logs; a metrics.json without the field counts as true. */
  persisted: boolean;
  errors: string[];
}

/** The strings of `v` (an untrusted array), bounded in count and length. */
export function boundedErrors(v: unknown): string[] {
  return Array.isArray(v)
    ? v
        .filter((e): e is string => typeof e === "string")
        .slice(0, EXIT_ERRORS_MAX)
        .map((e) => e.slice(0, EXIT_ERROR_LEN))
    : [];
}

/** The exit of a run from its parsed metrics.json. */
export function runExitOf(m: Record<string, unknown>): RunExit {
  return {
    exitCode: Number.isInteger(m.exit_code) ? (m.exit_code as number) : null,
    persisted: m.persisted !== false,
    errors: boundedErrors(m.persist_errors),
  };
}

// The attach client's reconnect policy: exponential backoff with jitter between attempts, reset
// only by a connection that moved the position (a hello or a ping alone is not progress), and
// the server's ping interval clamped before it becomes a timer. See docs/protocol.md.

/** The first wait after a failed connection; each failure in a row doubles it, up to the max. */
export const MIN_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 5000;
/** --no-follow gives up after this many connections in a row that brought no event with an id. */
export const NO_FOLLOW_ATTEMPTS = 5;
/** --no-follow ends with an error when no event but pings comes for this long. */
export const NO_FOLLOW_IDLE_MS = 10_000;

/** setTimeout fires at once (with a warning) past 2^31-1 ms; every timer of ours stays below. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** The wait before the next attempt after `failures` failed connections in a row: [b, 1.5 b). */
export function backoffMs(failures: number, min: number, max: number, random: () => number): number {
  const base = Math.min(max, min * 2 ** Math.min(Math.max(failures, 0), 30));
  return Math.min(TIMER_MAX_MS, Math.round(base + (random() * base) / 2));
}

/** A duration for setTimeout: finite, at least `lo`, at most `hi` (and TIMER_MAX_MS). */
export function clampMs(ms: number, lo: number, hi: number): number {
  if (!Number.isFinite(ms)) return hi;
  return Math.min(Math.max(ms, lo), hi, TIMER_MAX_MS);
}

/** Resolves true after `ms`, false at once when the signal aborts; leaves no listener behind. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      },
      clampMs(ms, 0, TIMER_MAX_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

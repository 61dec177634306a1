// Timing the stages of a long operation and showing the running one with its elapsed time.
import type { Reporter } from "./context.js";

export interface Stages {
  /** Runs `fn` as stage `name`, showing a ticking progress line while it runs. */
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Seconds per finished stage so far. */
  done(): Record<string, number>;
  /** Seconds since the start. */
  total(): number;
  stop(): void;
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/** Starts timing; `label` prefixes every progress line ("image debian-12: mkfs 12 s, 95 s in all"). */
export function startStages(
  out: Pick<Reporter, "progress" | "progressDone">,
  label: string,
  now = Date.now,
): Stages {
  const start = now();
  const times: Record<string, number> = {};
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    out.progressDone();
  };
  return {
    async run(name, fn) {
      const t0 = now();
      const show = () =>
        out.progress(
          `${label}: ${name} ${Math.round((now() - t0) / 1000)} s, ${Math.round((now() - start) / 1000)} s in all`,
        );
      stop();
      show();
      timer = setInterval(show, 1000);
      try {
        return await fn();
      } finally {
        stop();
        times[name] = secs(now() - t0);
      }
    },
    done: () => ({ ...times }),
    total: () => secs(now() - start),
    stop,
  };
}

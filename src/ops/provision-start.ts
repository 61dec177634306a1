// Start an agent's VM and wait for its readiness marker, with progress on a terminal.
import { getDomState, startDomain } from "../adapters/virsh.js";
import { agentPaths } from "../core/paths.js";
import type { OpContext } from "./context.js";
import type { Host } from "../host/host.js";
import type { StoredSpec } from "./provision-files.js";
import { markerMatches, waitForReady } from "./wait-ready.js";
import { ensureInbox } from "./inbox.js";
import { inboxLimitOf } from "./retention-config.js";

// eslint-disable-next-line no-control-regex -- stripping terminal escapes is the point
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

export interface StartResult {
  state?: string;
  ready?: boolean;
  timings?: { start?: number; wait?: number };
}

/** The last line the guest printed on its serial console, without control characters, for progress. */
export async function lastConsoleLine(host: Pick<Host, "readTail">, consoleLog: string): Promise<string> {
  const buf = await host.readTail(consoleLog, 4096).catch(() => undefined);
  if (!buf) return "";
  const text = Buffer.from(buf)
    .toString("utf8")
    .replace(ANSI_ESCAPE, "")
    .replace(/[^\x20-\x7e\n\u00a0-\uffff]/g, "");
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ""
  );
}

/** Starts the domain unless it runs; with `wait`, blocks until the guest reports this instance ready. */
export async function startAndWait(
  ctx: OpContext,
  stored: StoredSpec,
  opts: { wait: boolean; timeoutMs: number },
): Promise<StartResult> {
  const a = agentPaths(ctx.paths, stored.name);
  const uri = ctx.opts.connect;
  const timings: StartResult["timings"] = {};
  let state = await getDomState(ctx.run, uri, stored.name);
  if (state !== "running") {
    // The inbox's file system must be mounted before virtiofsd shares the folder (after a reboot it is not).
    const inbox = await ensureInbox(ctx.host, ctx.paths.inboxesDir, a, {
      uid: stored.config.uid,
      gid: stored.config.gid,
      limitBytes: stored.inboxLimitBytes ?? (await inboxLimitOf(ctx, stored.name)),
    });
    if (inbox.warning) ctx.out.warn(inbox.warning);
    ctx.out.progress(`${stored.name}: starting the VM`);
    const t0 = performance.now();
    // A provision killed during `virsh start` leaves that virsh running: it may win the race.
    await startDomain(ctx.run, uri, stored.name).catch(async (err: unknown) => {
      if ((await getDomState(ctx.run, uri, stored.name)) !== "running") throw err;
    });
    timings.start = Math.round(performance.now() - t0);
    state = "running";
  }
  if (!opts.wait) {
    ctx.out.progressDone();
    return { state, ready: await markerMatches(ctx.host, a.readyMarker, stored.instanceId), timings };
  }
  let lastLine = "";
  let lastRead = 0;
  timings.wait = await waitForReady({
    host: ctx.host,
    marker: a.readyMarker,
    failedMarker: a.failedMarker,
    instanceId: stored.instanceId,
    timeoutMs: opts.timeoutMs,
    consoleLog: a.consoleLog,
    signal: ctx.signal,
    isRunning: async () => (await getDomState(ctx.run, uri, stored.name)) === "running",
    onProgress: (elapsed) => {
      if (elapsed - lastRead > 1000) {
        lastRead = elapsed;
        void lastConsoleLine(ctx.host, a.consoleLog).then((l) => (lastLine = l));
      }
      ctx.out.progress(`${stored.name}: waiting for the guest ${(elapsed / 1000).toFixed(0)}s  ${lastLine}`);
    },
  });
  ctx.out.progressDone();
  return { state: "running", ready: true, timings };
}

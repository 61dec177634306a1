// Waiting for the guest's readiness marker: a file in the inbox whose first line is this
// provision's instance id. The inbox is guest-written, so the read refuses symlinks and FIFOs.
// The guest may instead write the failure marker (instance id, then why it cannot get ready,
// e.g. the health server cannot listen on its port): the wait then stops at once.
import type { Host } from "../host/host.js";
import { ToolError } from "../errors.js";

export interface WaitOptions {
  host: Pick<Host, "readGuestFile">;
  marker: string;
  /** The failure marker (paths.ts FAILED_MARKER); absent: not watched. */
  failedMarker?: string;
  instanceId: string;
  timeoutMs: number;
  pollMs?: number;
  /** Resolves false once the VM has stopped: no point waiting any longer. */
  isRunning: () => Promise<boolean>;
  onProgress?: (elapsedMs: number) => void;
  consoleLog: string;
  now?: () => number;
  /** Ends the wait early (rejecting with the signal's reason). */
  signal?: AbortSignal;
}

/** True when the marker file carries `instanceId` on its first line. */
export async function markerMatches(
  host: Pick<Host, "readGuestFile">,
  marker: string,
  instanceId: string,
): Promise<boolean> {
  const buf = await host.readGuestFile(marker, 4096);
  return buf !== undefined && Buffer.from(buf).toString("utf8").split("\n")[0]?.trim() === instanceId;
}

/** The reason in the failure marker when it carries `instanceId`, as one printable line (≤ 300 chars). */
export async function failureReported(
  host: Pick<Host, "readGuestFile">,
  marker: string,
  instanceId: string,
): Promise<string | undefined> {
  const buf = await host.readGuestFile(marker, 4096);
  if (buf === undefined) return undefined;
  const [first, ...rest] = Buffer.from(buf).toString("utf8").split("\n");
  if (first?.trim() !== instanceId) return undefined;
  const why = rest
    .join(" ")
    .replace(/[^\x20-\x7e\u00a0-\uffff]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
  return why || "no reason given";
}

/** Sleeps `ms`; rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((r) => setTimeout(r, ms));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Polls until ready; returns the time waited. Times out or fails fast if the VM stops. */
export async function waitForReady(o: WaitOptions): Promise<number> {
  const now = o.now ?? Date.now;
  const start = now();
  const poll = o.pollMs ?? 250;
  let checks = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    if (await markerMatches(o.host, o.marker, o.instanceId)) return now() - start;
    const failure = o.failedMarker && (await failureReported(o.host, o.failedMarker, o.instanceId));
    if (failure)
      throw new ToolError(`the guest reports it cannot get ready: ${failure}`, {
        hint: `fix what it names (a --health-port the guest cannot bind: pick another, then \`agentshare provision --recreate\`); console log: ${o.consoleLog}`,
      });
    const elapsed = now() - start;
    if (elapsed >= o.timeoutMs)
      throw new ToolError(`the guest did not report ready within ${Math.round(o.timeoutMs / 1000)} s`, {
        hint: `see the guest's console log: ${o.consoleLog} (then \`agentshare status\`, or raise --timeout)`,
      });
    if (++checks % 8 === 0 && !(await o.isRunning()))
      throw new ToolError("the VM stopped before the guest reported ready", {
        hint: `see the console log: ${o.consoleLog}`,
      });
    o.onProgress?.(elapsed);
    await sleep(poll, o.signal);
  }
}

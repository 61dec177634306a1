// One operation per agent at a time: provision, start, stop, restart and destroy of the same agent
// hold <state-dir>/locks/agent-NAME.lock (O_EXCL, the holder's pid; a dead holder's lock is broken).
// A second caller waits for as long as the holder lives, then does its own work on what the
// first left (a second provision finds the agent and reports "unchanged").
import type { OpContext } from "./context.js";

/** How often a waiter looks again, and how often it says that it is still waiting. */
const POLL_MS = 200;
const TRY_MS = 1000;

/** Runs `fn` holding agent `name`'s lock, waiting (with a message on stderr) while another holds it. */
export async function withAgentLock<T>(ctx: OpContext, name: string, fn: () => Promise<T>): Promise<T> {
  await ctx.host.ensureStateDir(ctx.paths.stateDir);
  const t0 = Date.now();
  let said = false;
  for (;;) {
    const attempt = await ctx.host.acquireLock(ctx.paths.locksDir, `agent-${name}`, {
      waitMs: TRY_MS,
      pollMs: POLL_MS,
    });
    if (attempt.ok) {
      ctx.out.progressDone();
      try {
        return await fn();
      } finally {
        await attempt.lock.release();
      }
    }
    const who =
      attempt.holder === undefined ? "another agentshare" : `another agentshare (pid ${attempt.holder})`;
    if (!said) ctx.out.note(`${name}: ${who} is working on this agent; waiting for it to finish`);
    said = true;
    ctx.out.progress(`${name}: waiting for ${who} ${Math.round((Date.now() - t0) / 1000)}s`);
  }
}

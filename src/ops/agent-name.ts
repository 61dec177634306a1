// The agent-name check every verb runs before it touches anything. Its own module, so verbs that
// only look an agent up (attach, exec, status, destroy) do not load provision's planning code.
import { AGENT_NAME_HINT, checkAgentName } from "../core/names.js";
import { DataError } from "../errors.js";
import type { Host } from "../host/host.js";

/** Throws DataError (65) naming the rule when the agent name is invalid; touches nothing. */
export function assertAgentName(name: string): void {
  const rule = checkAgentName(name);
  if (rule)
    throw new DataError(`invalid agent name ${JSON.stringify(name)}: ${rule}`, { hint: AGENT_NAME_HINT });
}

/** The agents provisioned here (folders of <state-dir>/agents with a valid name), sorted; none without the folder. */
export async function provisionedAgentNames(
  host: Pick<Host, "readdir">,
  agentsDir: string,
): Promise<string[]> {
  const entries = await host.readdir(agentsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  return entries
    .map((e) => e.name)
    .filter((n) => checkAgentName(n) === undefined)
    .sort();
}

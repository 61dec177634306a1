// The agent-name check every verb runs before it touches anything. Its own module, so verbs that
// only look an agent up (attach, exec, status, destroy) do not load provision's planning code.
import { promises as fsp } from "node:fs";
import { AGENT_NAME_HINT, checkAgentName } from "../core/names.js";
import { DataError } from "../errors.js";

/** Throws DataError (65) naming the rule when the agent name is invalid; touches nothing. */
export function assertAgentName(name: string): void {
  const rule = checkAgentName(name);
  if (rule)
    throw new DataError(`invalid agent name ${JSON.stringify(name)}: ${rule}`, { hint: AGENT_NAME_HINT });
}

/** The agents provisioned here (folders of <state-dir>/agents with a valid name), sorted; none without the folder. */
export async function provisionedAgentNames(agentsDir: string): Promise<string[]> {
  const names = await fsp.readdir(agentsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  return names.filter((n) => checkAgentName(n) === undefined).sort();
}

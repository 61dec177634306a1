// Where an agent's health server is and how to authenticate to it.
import { NotFoundError } from "../errors.js";
import type { Context } from "../cli/context.js";

export interface Endpoint {
  url: string;
  token: string;
}

/** Looks up the agent's guest address (virsh domifaddr) and its token in the state dir. */
export async function resolveAgentEndpoint(_ctx: Context, name: string): Promise<Endpoint> {
  throw new NotFoundError(`cannot find the address of agent ${name} yet`, {
    hint: "use `agentshare attach --url http://ADDR:8118 --token-file FILE NAME`",
  });
}

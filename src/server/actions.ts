// The state-changing routes: lifecycle actions, prune and promote. Each is one API call; with
// `Accept: application/x-ndjson` the answer streams the call's progress events, one JSON line
// each, and ends with { type: "result", result } or { type: "error", … } — otherwise it is the
// result (or the error) as one JSON body, the object `--json` prints.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Agentshare } from "../api/agentshare.js";
import type { CallOptions, ProgressEvent } from "../api/types.js";
import { DataError, UsageError } from "../errors.js";
import { errorBody, readJsonBody, SECURITY_HEADERS, sendError, sendJson } from "./reply.js";

export const LIFECYCLE = ["start", "stop", "restart", "destroy"] as const;
export type Lifecycle = (typeof LIFECYCLE)[number];

const TO = ["tools", "prompts", "configs", "content"] as const;

type Call = (o: CallOptions) => Promise<unknown>;

const bool = (v: unknown, what: string) => {
  if (v === undefined || typeof v === "boolean") return v === true;
  throw new DataError(`${what} must be true or false`, { hint: `send {"${what}": true}` });
};

/** The API call a lifecycle route makes. */
export function lifecycleCall(
  api: Agentshare,
  action: Lifecycle,
  name: string,
  body: Record<string, unknown>,
): Call {
  switch (action) {
    case "start":
      return (o) => api.start(name, o);
    case "stop":
      return (o) => api.stop(name, o);
    case "restart":
      return (o) => api.restart(name, o);
    case "destroy": {
      const purgeInbox = bool(body.purgeInbox, "purgeInbox");
      return (o) => api.destroy(name, { ...o, purgeInbox });
    }
  }
}

export function pruneCall(api: Agentshare, body: Record<string, unknown>): Call {
  const agents = body.agents;
  if (agents !== undefined && !(Array.isArray(agents) && agents.every((a) => typeof a === "string")))
    throw new DataError("agents must be a list of agent names", {
      hint: 'send {"agents": ["agent-01"]} or {"all": true}',
    });
  const keepLast = body.keepLast;
  if (keepLast !== undefined && !(Number.isInteger(keepLast) && (keepLast as number) >= 0))
    throw new DataError("keepLast must be a whole number", { hint: 'e.g. {"keepLast": 5}' });
  const all = bool(body.all, "all");
  const dryRun = bool(body.dryRun, "dryRun");
  return (o) =>
    api.prune({
      ...o,
      agents: agents as string[] | undefined,
      all,
      dryRun,
      keepLast: keepLast as number | undefined,
    });
}

export function promoteCall(api: Agentshare, body: Record<string, unknown>): Call {
  if (typeof body.file !== "string" || !body.file)
    throw new UsageError("promote needs the staging file's name", {
      hint: 'send {"file": "NAME", "to": "tools"}',
    });
  const to = body.to ?? "tools";
  if (!TO.includes(to as (typeof TO)[number]))
    throw new DataError(`unknown global folder ${JSON.stringify(to)}`, {
      hint: `use one of ${TO.join(", ")}`,
    });
  const force = bool(body.force, "force");
  const file = body.file;
  return (o) => api.promote(file, { ...o, to: to as (typeof TO)[number], force });
}

/** Runs a call and answers, streaming progress when the client asked for NDJSON. */
export async function runCall(
  req: IncomingMessage,
  res: ServerResponse,
  make: (body: Record<string, unknown>) => Call,
): Promise<void> {
  const call = make(await readJsonBody(req));
  const ac = new AbortController();
  // a client that disconnects does not abort the action: a half-done stop is worse than a finished one
  const ndjson = (req.headers.accept ?? "").includes("application/x-ndjson");
  if (!ndjson) {
    try {
      sendJson(res, 200, await call({ signal: ac.signal }));
    } catch (err) {
      sendError(res, err);
    }
    return;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "application/x-ndjson; charset=utf-8",
    "cache-control": "no-store",
  });
  const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
  try {
    const result = await call({ onProgress: (e: ProgressEvent) => line(e) });
    line({ type: "result", result });
  } catch (err) {
    line({ type: "error", ...errorBody(err) });
  } finally {
    res.end();
  }
}

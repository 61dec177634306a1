// An agent whose lifetime is a scope: `await using agent = await as.ephemeral()` provisions a
// fresh agent (started, ready) and destroys it — VM, state and by default its inbox — when the
// scope ends, also when the scope throws. A provision that fails half-way is destroyed too.
import { randomBytes } from "node:crypto";
import type { CollectResult } from "../ops/collect.js";
import type { DestroyResult } from "../ops/destroy.js";
import type { ProvisionResult } from "../ops/provision.js";
import type { AgentStatus } from "../ops/status.js";
import type { Agentshare } from "./agentshare.js";
import type {
  AttachEvent,
  AttachParams,
  CallOptions,
  CollectParams,
  EphemeralParams,
  ExecParams,
  ExecResult,
} from "./types.js";

export interface EphemeralAgent extends AsyncDisposable {
  readonly name: string;
  readonly provisioned: ProvisionResult;
  exec(argv: readonly string[], o?: ExecParams): Promise<ExecResult>;
  attach(o?: AttachParams): AsyncIterable<AttachEvent>;
  status(o?: CallOptions): Promise<AgentStatus>;
  collect(path: string, o?: CollectParams): Promise<CollectResult & { ok: true }>;
  /** Destroys it now (what the end of the scope does); a second call is a no-op returning undefined. */
  destroy(o?: CallOptions): Promise<DestroyResult | undefined>;
}

export async function ephemeralAgent(api: Agentshare, o: EphemeralParams): Promise<EphemeralAgent> {
  const { name: given, prefix = "eph", keepInbox = false, ...provision } = o;
  const name = given ?? `${prefix}-${randomBytes(4).toString("hex")}`;
  let destroyed: Promise<DestroyResult | undefined> | undefined;
  const destroy = (c: CallOptions = {}) =>
    (destroyed ??= api.destroy(name, {
      ...c,
      purgeInbox: !keepInbox,
      shutdownTimeoutMs: keepInbox ? 30_000 : 0,
      onProgress: c.onProgress ?? o.onProgress,
    }));
  let provisioned: ProvisionResult;
  try {
    provisioned = await api.provision(name, { ...provision, recreate: false });
  } catch (err) {
    // whatever the failed provision left (a defined domain, an inbox) goes with it
    await destroy().catch(() => undefined);
    throw err;
  }
  return {
    name,
    provisioned,
    exec: (argv, e) => api.exec(name, argv, e),
    attach: (a) => api.attach(name, a),
    status: (c) => api.status(name, c),
    collect: (path, c) => api.collect(name, path, c),
    destroy,
    [Symbol.asyncDispose]: async () => {
      await destroy();
    },
  };
}

// Where an agent's health server is and how to authenticate to it: the guest's address from
// libvirt's DHCP lease, the port from spec.json, the token from the host-only state dir.
import { getDomAddresses, getDomState } from "../adapters/virsh.js";
import { agentPaths } from "../core/paths.js";
import { NotFoundError, ToolError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName } from "./agent-name.js";
import { readStoredSpec, type StoredSpec } from "./provision-files.js";

export interface Endpoint {
  url: string;
  token: string;
}

const ROUTE_HINT =
  "if the host cannot reach the guest's network, forward the port and use `agentshare attach --url http://127.0.0.1:PORT --token-file <state-dir>/agents/NAME/token NAME` (docs/protocol.md)";

/** How the host reaches a running guest: host, health server port and SSH port. */
export interface GuestAccess {
  host: string;
  healthPort: number;
  sshPort: number;
}

/**
 * `access: loopback` → 127.0.0.1 and the ports forwarded at provision (no lookup, no traffic
 * off the host); otherwise the guest's address from libvirt's DHCP lease, or undefined.
 */
export async function guestAccess(
  ctx: Pick<OpContext, "run" | "opts">,
  name: string,
  spec: Pick<StoredSpec, "healthPort" | "forward"> | undefined,
): Promise<GuestAccess | undefined> {
  if (spec?.forward) return { host: "127.0.0.1", healthPort: spec.forward.health, sshPort: spec.forward.ssh };
  const host = (await getDomAddresses(ctx.run, ctx.opts.connect, name))[0];
  return host === undefined ? undefined : { host, healthPort: spec?.healthPort ?? 8118, sshPort: 22 };
}

/** Looks up the agent's guest address (virsh domifaddr, lease source) and its token in the state dir. */
export async function resolveAgentEndpoint(ctx: OpContext, name: string): Promise<Endpoint> {
  assertAgentName(name);
  const a = agentPaths(ctx.paths, name);
  const spec = await readStoredSpec(ctx.host, a.spec);
  if (!spec)
    throw new NotFoundError(`no agent named ${name}`, { hint: "`agentshare list` shows the agents" });
  const state = await getDomState(ctx.run, ctx.opts.connect, name);
  if (state !== "running")
    throw new ToolError(`agent ${name} is not running (${state ?? "not defined"})`, {
      hint: `start it: agentshare provision ${name}`,
    });
  const where = await guestAccess(ctx, name, spec);
  if (!where)
    throw new ToolError(`agent ${name} has no IPv4 address in libvirt's DHCP leases yet`, {
      hint: `wait until it is ready (agentshare status ${name}); ${ROUTE_HINT}`,
    });
  const token = (await ctx.host.readText(a.token)).trim();
  return { url: `http://${where.host}:${where.healthPort}`, token };
}

// How virsh fails, told apart from its stderr (libvirt 9.0 wording, recorded under
// test/fixtures/virsh/*.stderr), and the error each failure becomes. Pure.
import { NotFoundError, toolError } from "../errors.js";
import type { RunResult } from "./runner.js";

export const LIBVIRTD_HINT = "start libvirtd: bash scripts/host-setup.sh (as root)";

/** stderr says the domain does not exist (libvirt 9.0: "failed to get domain 'X'"; others: "Domain not found"). */
export const isDomainMissing = (stderr: string): boolean =>
  /failed to get domain|Domain not found|no domain with matching (name|uuid)/i.test(stderr);

/** stderr says virsh could not reach libvirtd (socket missing, connection refused, …). */
export const isLibvirtUnreachable = (stderr: string): boolean =>
  /failed to connect to the hypervisor|Failed to connect socket|Connection refused|cannot connect to daemon/i.test(
    stderr,
  );

/** stderr says the domain is not running (destroy or domifaddr on a shut-off domain). */
export const isNotRunning = (stderr: string): boolean => /domain is not running/i.test(stderr);

/** The error for a failed virsh call: libvirtd unreachable and missing domains get their own. */
export function virshError(argv: readonly string[], r: RunResult, domain?: string): Error {
  if (isLibvirtUnreachable(r.stderr)) return toolError(["virsh", ...argv], r, { hint: LIBVIRTD_HINT });
  if (domain !== undefined && isDomainMissing(r.stderr))
    return new NotFoundError(`libvirt has no domain named ${domain}`, {
      hint: "see `virsh -c URI list --all`; provision creates it",
    });
  return toolError(["virsh", ...argv], r);
}

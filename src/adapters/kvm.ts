// Probes /dev/kvm and the loaded KVM modules on the host for resolveDomainType.
import { BROKEN_KVM_MODULES, type KvmProbe } from "../core/domain-type.js";
import type { Host } from "../host/host.js";

export async function probeKvm(host: Pick<Host, "access">): Promise<KvmProbe> {
  const devKvmUsable = await host.access("/dev/kvm", "readwrite");
  const brokenModules: string[] = [];
  for (const m of BROKEN_KVM_MODULES)
    if (await host.access(`/sys/module/${m}`, "exists")) brokenModules.push(m);
  return { devKvmUsable, brokenModules };
}

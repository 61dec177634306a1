// Probes /dev/kvm and the loaded KVM modules for resolveDomainType.
import { constants, promises as fsp } from "node:fs";
import { BROKEN_KVM_MODULES, type KvmProbe } from "../core/domain-type.js";

export async function probeKvm(): Promise<KvmProbe> {
  const devKvmUsable = await fsp.access("/dev/kvm", constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  const brokenModules: string[] = [];
  for (const m of BROKEN_KVM_MODULES) {
    if (
      await fsp.stat(`/sys/module/${m}`).then(
        () => true,
        () => false,
      )
    )
      brokenModules.push(m);
  }
  return { devKvmUsable, brokenModules };
}

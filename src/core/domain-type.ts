// Which libvirt domain type to use. KVM on these machines can be present and broken
// (software-nested `kvm_pvm`: guests die with "KVM internal error … emulation failure").

export interface KvmProbe {
  /** /dev/kvm exists and this process may open it read-write. */
  devKvmUsable: boolean;
  /** Kernel modules known to expose a /dev/kvm that cannot run guests. */
  brokenModules: string[];
}

export const BROKEN_KVM_MODULES = ["kvm_pvm"];

/** Resolves `auto` to kvm or qemu (TCG) with the reason, for messages and doctor. */
export function resolveDomainType(
  choice: "kvm" | "qemu" | "auto",
  probe: KvmProbe,
): { type: "kvm" | "qemu"; reason: string } {
  if (choice !== "auto") return { type: choice, reason: `domainType: ${choice} in the configuration` };
  if (!probe.devKvmUsable)
    return { type: "qemu", reason: "/dev/kvm is missing or not accessible: using TCG" };
  if (probe.brokenModules.length)
    return {
      type: "qemu",
      reason: `KVM is provided by ${probe.brokenModules.join(", ")}, which cannot run guests: using TCG`,
    };
  return { type: "kvm", reason: "/dev/kvm is usable" };
}

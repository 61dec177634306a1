// The options of `render kubevirt` beyond the agent config, with their defaults. Kept apart from
// the builders so the CLI can declare its flags without loading them (src/cli/commands.ts).

export interface KubevirtOptions {
  namespace: string;
  /** Where the boot disk comes from; `image` is a container image or, for a DataVolume, an http(s) URL. */
  diskFrom: "containerdisk" | "datavolume";
  diskImage?: string;
  storageClass?: string;
  inboxAccessMode: string;
  globalClaim: string;
  globalSize: string;
  globalSource: string;
  insecureGlobal: boolean;
  serviceType: string;
}

export const DEFAULT_KUBEVIRT_OPTIONS: KubevirtOptions = {
  namespace: "default",
  diskFrom: "containerdisk",
  inboxAccessMode: "ReadWriteMany",
  globalClaim: "agentshare-global",
  globalSize: "10G",
  globalSource: "claim",
  insecureGlobal: false,
  serviceType: "ClusterIP",
};

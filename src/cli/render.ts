// `agentshare render kubevirt NAME [--namespace NS] [-o DIR] [flags as provision]`: the agent as
// Kubernetes objects for KubeVirt (docs/kubevirt.md). Prints a YAML stream for `kubectl apply -f -`,
// `--json` a List, or writes one file per object and the host-side keys into a new DIR.
import type { Command } from "commander";
import { DEFAULT_KUBEVIRT_OPTIONS as D, type KubevirtOptions } from "../core/kubevirt-options.js";
import type { AgentSettings } from "../api/types.js";
import { act, cliOf } from "./context.js";
import { addConfigFlags, configFlagsOf } from "./provision.js";

function kubevirtOptionsOf(o: Record<string, unknown>): KubevirtOptions {
  const s = (v: unknown) => (v === undefined ? undefined : String(v));
  return {
    namespace: s(o.namespace) ?? D.namespace,
    diskFrom: (s(o.diskFrom) ?? D.diskFrom) as KubevirtOptions["diskFrom"],
    ...(o.diskImage !== undefined ? { diskImage: String(o.diskImage) } : {}),
    ...(o.storageClass !== undefined ? { storageClass: String(o.storageClass) } : {}),
    inboxAccessMode: s(o.inboxAccessMode) ?? D.inboxAccessMode,
    globalClaim: s(o.globalClaim) ?? D.globalClaim,
    globalSize: s(o.globalSize) ?? D.globalSize,
    globalSource: s(o.globalSource) ?? D.globalSource,
    insecureGlobal: Boolean(o.insecureGlobal),
    serviceType: s(o.serviceType) ?? D.serviceType,
  };
}

export function registerRender(program: Command): void {
  const render = program.command("render").description("print an agent as objects for another engine");
  const cmd = render
    .command("kubevirt <name>")
    .description("the agent as KubeVirt objects: VirtualMachine, cloud-init Secret, claims, Service")
    .option("--namespace <ns>", "namespace of every object", D.namespace)
    .option(
      "-o, --output-dir <dir>",
      "write one file per object and the host-side keys into this new directory",
    )
    .option(
      "--disk-from <kind>",
      "boot disk: containerdisk or datavolume (CDI import from a URL)",
      D.diskFrom,
    )
    .option(
      "--disk-image <ref>",
      "container image (containerdisk; default agentshare/IMAGE:latest) or http(s) URL (datavolume)",
    )
    .option("--storage-class <name>", "storage class of the inbox and global claims (default: the cluster's)")
    .option("--inbox-access-mode <mode>", "ReadWriteMany or ReadWriteOnce", D.inboxAccessMode)
    .option("--global-claim <name>", "the shared global claim, in the same namespace", D.globalClaim)
    .option("--global-size <size>", "size of the global claim", D.globalSize)
    .option(
      "--global-source <kind>",
      "claim (read-only, enforced) or datavolume (not enforced)",
      D.globalSource,
    )
    .option("--insecure-global", "render a global that nothing outside the guest keeps read-only")
    .option("--service-type <type>", "ClusterIP, NodePort or LoadBalancer", D.serviceType);
  addConfigFlags(cmd)
    .addHelpText(
      "after",
      "\nExample: agentshare render kubevirt agent-01 --namespace agents | kubectl apply -f -",
    )
    .action(
      act(async (name: string, o: Record<string, unknown>, c: Command) => {
        const { api, out } = cliOf(c);
        const r = await api.renderKubevirt(name, {
          profile: o.profile as string | undefined,
          settings: configFlagsOf(o) as AgentSettings,
          kubevirt: kubevirtOptionsOf(o),
          ...(o.outputDir !== undefined ? { outputDir: String(o.outputDir) } : {}),
        });
        // --json: the objects as a Kubernetes List (what kubectl reads), not the API's result object
        if (out.json) return out.result({ apiVersion: "v1", kind: "List", items: r.objects }, () => "");
        if (!r.files) return out.result(r, () => r.yaml);
        out.result(r, () =>
          [
            `${name}: ${r.objects.length} objects for namespace ${r.namespace}`,
            ...r.files!.map((f) => `  ${f}`),
          ].join("\n"),
        );
      }),
    );
}

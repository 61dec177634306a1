// `agentshare render kubevirt NAME`: the same validation and plan as provision (name, config,
// base image, user-data), then the Kubernetes objects for KubeVirt, printed or written to a new
// directory. Touches neither libvirt nor the host tree; the state dir is not written either.
import { resolve } from "node:path";
import yaml from "js-yaml";
import { checkNewDir, writeNewDir, type NewFile } from "../adapters/new-dir.js";
import { kubeList, type KubeObject } from "../core/kubevirt.js";
import { planKubevirt, type KubevirtOptions } from "../core/kubevirt-plan.js";
import type { OpContext } from "./context.js";
import { prepareAgent, type PreparedAgent } from "./agent-spec.js";

export interface RenderOptions {
  name: string;
  profile?: string;
  flags: Record<string, unknown>;
  kubevirt: KubevirtOptions;
  /** Write one file per object here (a new or empty directory) instead of returning the YAML. */
  outputDir?: string;
}

export interface RenderResult {
  name: string;
  namespace: string;
  objects: KubeObject[];
  /** The objects as one YAML stream (`---` between documents), what `kubectl apply -f -` reads. */
  yaml: string;
  /** With outputDir: the files written, manifests first, then the host-side keys and token. */
  files?: string[];
}

const dumpObject = (o: KubeObject) => yaml.dump(o, { lineWidth: -1, noRefs: true, quotingType: '"' });

export const kubeYaml = (objects: KubeObject[]) => objects.map((o) => `---\n${dumpObject(o)}`).join("");

/** `1-secret-agent-01-cloudinit.yaml`: numbered so `kubectl apply -f DIR` creates them in order. */
const fileNameOf = (o: KubeObject, i: number) => `${i + 1}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;

/** Renders one agent (see the file comment); DataError when -o names a directory in use (nothing written). */
export async function renderKubevirt(ctx: OpContext, opts: RenderOptions): Promise<RenderResult> {
  const out = opts.outputDir === undefined ? undefined : resolve(opts.outputDir);
  if (out) await checkNewDir(out, "-o"); // before the plan: a bad -o costs nothing
  const p = await prepareAgent(ctx, {
    name: opts.name,
    profile: opts.profile,
    flags: opts.flags,
    libvirtVersion: 0,
  });
  const { spec, objects } = planKubevirt(p.inputs, p.plan, p.inboxLimitBytes, opts.kubevirt, (s) =>
    ctx.out.warn(s),
  );
  const result = { name: opts.name, namespace: spec.namespace, objects, yaml: kubeYaml(objects) };
  if (!out) return result;
  return { ...result, files: await writeNewDir(out, "-o", outputFiles(objects, p)) };
}

/** The manifests, then the host-side files attach and exec need, laid out as a state dir (state/agents/NAME/). */
function outputFiles(objects: KubeObject[], p: PreparedAgent): NewFile[] {
  const agentDir = `state/agents/${p.inputs.name}`;
  const k = p.keys;
  return [
    ...objects.map((o, i) => ({ path: fileNameOf(o, i), content: dumpObject(o), mode: 0o600 })),
    { path: `${agentDir}/token`, content: `${p.inputs.token}\n`, mode: 0o600 },
    { path: `${agentDir}/id_ed25519`, content: `${k.clientPrivateKey.trim()}\n`, mode: 0o600 },
    { path: `${agentDir}/id_ed25519.pub`, content: `${k.clientPublicKey}\n`, mode: 0o644 },
    { path: `${agentDir}/known_hosts`, content: `${k.hostPublicKey}\n`, mode: 0o644 },
  ];
}

/** What --json prints: the objects as one `List`. */
export const renderJson = (r: RenderResult) => kubeList(r.objects);

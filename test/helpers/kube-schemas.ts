// Rendered Kubernetes objects against published schemas, without a cluster: KubeVirt's own OpenAPI
// document (api/openapi-spec/swagger.json of kubevirt/kubevirt at d923fdb8, kept outside the repo
// in ../shared/kubevirt/) through ajv, and the core objects (Secret, PersistentVolumeClaim,
// Service) through kubernetes-models, whose validators are generated from Kubernetes' own schemas.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { REPO } from "./cli.js";

export const KUBEVIRT_SWAGGER = join(REPO, "..", "shared", "kubevirt", "swagger.json");
export const haveKubevirtSchema = () => existsSync(KUBEVIRT_SWAGGER);

type Schema = Record<string, unknown>;

/**
 * The swagger's definitions leave additionalProperties open, so a misspelt field would pass. The
 * API server rejects unknown fields with `kubectl apply --validate=strict` (the default since
 * Kubernetes 1.27 warns, strict fails): close every object that lists its properties, as it does.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (!node || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === "properties" ? mapValues(v as Schema) : closeObjects(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const mapValues = (o: Schema) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, closeObjects(v)]));

let cached: Ajv | undefined;

/** A validator for `#/definitions/NAME` of KubeVirt's swagger (e.g. v1.VirtualMachine). */
export function kubevirtValidator(definition: string): ValidateFunction {
  if (!cached) {
    const swagger = JSON.parse(readFileSync(KUBEVIRT_SWAGGER, "utf8")) as { definitions: Schema };
    cached = new Ajv({ strict: false, allErrors: true });
    // ajv-formats is CommonJS: from ESM its function arrives as the module's .default
    const addFormats = (addFormatsModule as unknown as { default: (a: Ajv) => Ajv }).default;
    addFormats(cached);
    cached
      .addFormat("int32", true)
      .addFormat("int64", true)
      .addFormat("byte", true)
      .addFormat("double", true);
    cached.addSchema({ definitions: closeObjects(swagger.definitions) }, "kubevirt");
  }
  return cached.getSchema(`kubevirt#/definitions/${definition}`)!;
}

/** Problems of one KubeVirt object (by its kind), or [] when it validates. */
export function kubevirtProblems(obj: { kind: string }, definition = `v1.${obj.kind}`): string[] {
  const v = kubevirtValidator(definition);
  if (v(obj)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

const CORE = { Secret, PersistentVolumeClaim, Service } as const;

/** Validates a Secret, PersistentVolumeClaim or Service with kubernetes-models; throws on a problem. */
export function validateCoreObject(obj: { kind: string }): void {
  const Model = CORE[obj.kind as keyof typeof CORE];
  if (!Model) throw new Error(`no kubernetes-models class for kind ${obj.kind}`);
  new Model(obj as never).validate();
}

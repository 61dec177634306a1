// Config pipeline (I/O part): reads the profile and the config file, then hands the
// layers to the pure resolveConfig. Built-in < profile < config file < agents.NAME < flags.
import { join } from "node:path";
import yaml from "js-yaml";
import {
  listPackageDir,
  MAX_CONFIG_BYTES,
  PACKAGE_ROOT,
  readConfigText,
  TEMPLATES_DIR,
} from "../adapters/controller-files.js";
import { type Config, type ConfigLayer, resolveConfig } from "../core/config.js";
import { DEFAULT_CONFIG_FILE } from "../core/paths.js";
import { ConfigError } from "../errors.js";

export { MAX_CONFIG_BYTES, PACKAGE_ROOT, TEMPLATES_DIR };

export interface LoadOptions {
  /** --config; when absent the default file is used if it exists. */
  configFile?: string;
  /** --profile; when absent the config file's `profile:` key, else "default". */
  profile?: string;
  agentName?: string;
  /** Settings from command-line flags (highest precedence). */
  flags?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  profile: string;
  sources: string[];
}

async function readYaml(file: string, required: boolean): Promise<unknown> {
  const text = await readConfigText(file, required);
  if (text === undefined) return undefined;
  try {
    return yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message}`, [], {
      hint: "fix the YAML syntax at the line shown",
    });
  }
}

/** Lists the profile names available in templates/. */
export async function listProfiles(): Promise<string[]> {
  const names = await listPackageDir(TEMPLATES_DIR);
  return names
    .filter((n) => n.endsWith(".yaml"))
    .map((n) => n.slice(0, -5))
    .sort();
}

async function loadProfile(name: string): Promise<unknown> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
    throw new ConfigError(`profile name ${JSON.stringify(name)} is not valid`, [], {
      hint: `available: ${(await listProfiles()).join(", ")}`,
    });
  const data = await readYaml(join(TEMPLATES_DIR, `${name}.yaml`), false);
  if (data === undefined)
    throw new ConfigError(`no profile named ${JSON.stringify(name)}`, [], {
      hint: `available profiles: ${(await listProfiles()).join(", ")} (files in ${TEMPLATES_DIR})`,
    });
  return data;
}

/** Loads, layers and validates the configuration; throws ConfigError listing every problem. */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const file = opts.configFile ?? DEFAULT_CONFIG_FILE;
  const fileData = await readYaml(file, opts.configFile !== undefined);
  const fileProfile =
    fileData && typeof fileData === "object" && "profile" in fileData
      ? (fileData as { profile: unknown }).profile
      : undefined;
  if (fileProfile !== undefined && typeof fileProfile !== "string")
    throw new ConfigError(`invalid configuration`, [`${file}: profile: must be a string`]);
  const profile = opts.profile ?? (fileProfile as string | undefined) ?? "default";
  const layers: ConfigLayer[] = [{ source: `profile ${profile}`, data: await loadProfile(profile) }];
  if (fileData !== undefined) layers.push({ source: file, data: fileData });
  if (opts.flags && Object.keys(opts.flags).length) layers.push({ source: "command line", data: opts.flags });
  const { config, problems } = resolveConfig(layers, opts.agentName);
  if (problems.length)
    throw new ConfigError("invalid configuration", problems, {
      hint: "fix the fields listed above (README.md, section Configuration, lists every field)",
    });
  return { config, profile, sources: layers.map((l) => l.source) };
}

// Config pipeline (I/O part): reads the profile and the config file, then hands the
// layers to the pure resolveConfig. Built-in < profile < config file < agents.NAME < flags.
import { constants, promises as fsp } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { type Config, type ConfigLayer, resolveConfig } from "../core/config.js";
import { DEFAULT_CONFIG_FILE } from "../core/paths.js";
import { ConfigError, NotFoundError } from "../errors.js";

/** templates/ and cloud-init/ ship beside dist/ (and beside src/ in a checkout). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TEMPLATES_DIR = join(PACKAGE_ROOT, "templates");

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

/** A config file is a few KiB of YAML; anything over this is the wrong file (or an attack on memory). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const CONFIG_HINT = "pass --config the path of a YAML file (default /etc/agentshare/config.yaml)";

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  return st.isSocket() ? "a socket" : "a device";
}

/**
 * Reads a config or profile file: opened O_NONBLOCK (a FIFO never blocks the open), fstat'ed,
 * refused unless it is a regular file of at most MAX_CONFIG_BYTES (read with that bound too, so
 * a file growing meanwhile cannot push it over). Undefined when it is absent and not `required`.
 */
async function readConfigText(file: string, required: boolean): Promise<string | undefined> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    if (code === "ENOENT")
      throw new NotFoundError(`config file ${file} does not exist`, {
        hint: "check the path given to --config",
      });
    throw new ConfigError(`cannot read config file ${file}: ${code ?? (err as Error).message}`, [], {
      hint: CONFIG_HINT,
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new ConfigError(`config file ${file} is ${kindOf(st)}, not a regular file`, [], {
        hint: CONFIG_HINT,
      });
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = (await fh.read(buf, n, buf.length - n, n)).bytesRead;
    if (n > MAX_CONFIG_BYTES || st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(
        `config file ${file} is ${Math.max(st.size, n)} bytes, over the limit of ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
        [],
        { hint: "a config file is a few KiB of YAML: check that --config names the right file" },
      );
    return buf.toString("utf8", 0, n);
  } finally {
    await fh.close();
  }
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
  const names = await fsp.readdir(TEMPLATES_DIR).catch(() => [] as string[]);
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

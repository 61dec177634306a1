// Files read where agentshare runs (the controlling machine), not on the VM host: the package's
// own templates/, cloud-init/ and bundled guest, and the config file. Kept apart from the host
// seam (src/host/host.ts) so that ops, which import no node:fs, still read them, and so that a
// remote host never gets asked for the controller's files.
import { constants, promises as fsp } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, InternalError, NoPermissionError, NotFoundError } from "../errors.js";

/** templates/ and cloud-init/ ship beside dist/ (and beside src/ in a checkout). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TEMPLATES_DIR = join(PACKAGE_ROOT, "templates");

/** A config file is a few KiB of YAML; anything over this is the wrong file (or an attack on memory). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const CONFIG_HINT = "pass --config the path of a YAML file (default /etc/agentshare/config.yaml)";

/** The names in a folder of the package; none when it is missing. */
export const listPackageDir = (dir: string): Promise<string[]> =>
  fsp.readdir(dir).catch(() => [] as string[]);

/** A file the package ships (or the build made); InternalError naming the fix when missing. */
export async function readPackageText(path: string): Promise<string> {
  return fsp.readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new InternalError(`cannot read ${path}: ${err.code ?? err.message}`, {
      hint: "build the package first: npm ci && npm run build",
    });
  });
}

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
export async function readConfigText(file: string, required: boolean): Promise<string | undefined> {
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

/**
 * A small file of the operator's on the controlling machine (an SSH identity, a known_hosts
 * file): NotFoundError or NoPermissionError naming it and `what` it is for.
 */
export async function readControllerFile(
  path: string,
  what: string,
  maxBytes = 1024 * 1024,
): Promise<Buffer> {
  const buf = await fsp.readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT")
      throw new NotFoundError(`${what} ${path} does not exist`, {
        hint: "check the path in the host's entry",
      });
    throw new NoPermissionError(`cannot read ${what} ${path}: ${err.code ?? err.message}`, {
      hint: "run agentshare as the user who owns it (root)",
    });
  });
  if (buf.length > maxBytes)
    throw new ConfigError(`${what} ${path} is over ${maxBytes} bytes: is it the right file?`);
  return buf;
}

/** A file of the package as bytes (the bundled host helper); InternalError naming the fix when missing. */
export async function readPackageBytes(path: string): Promise<Buffer> {
  return fsp.readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new InternalError(`cannot read ${path}: ${err.code ?? err.message}`, {
      hint: "build the package first: npm ci && npm run build",
    });
  });
}

/** Writes a small file of the controlling machine atomically (the fleet's hosts file); mode 0600. */
export async function writeControllerFileAtomic(path: string, text: string): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true, mode: 0o711 });
  const tmp = `${path}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, text, { mode: 0o600 });
  const fh = await fsp.open(tmp, "r");
  await fh.sync().finally(() => fh.close());
  await fsp.rename(tmp, path);
}

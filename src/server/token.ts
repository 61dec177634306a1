// serve's login token: made at first start, 32 random bytes as hex, in <state-dir>/serve-token
// (0600). Written to a temp file and linked into place, so two first starts cannot both win and a
// reader never sees half a token; read back without following a symlink.
import { randomBytes } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import { join } from "node:path";
import { ConfigError, NotFoundError } from "../errors.js";

export const TOKEN_FILE = "serve-token";
const TOKEN_RE = /^[0-9a-f]{64}$/;

export const tokenPath = (stateDir: string) => join(stateDir, TOKEN_FILE);

/** Reads the token; undefined when there is none yet. Refuses a symlink, a bad mode or bad content. */
export async function readToken(stateDir: string): Promise<string | undefined> {
  const path = tokenPath(stateDir);
  let fh;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP")
      throw new ConfigError(`${path} is a symlink`, [], { hint: `remove it: rm ${path}` });
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || (st.mode & 0o077) !== 0)
      throw new ConfigError(`${path} must be a regular file readable by its owner only`, [], {
        hint: `chmod 600 ${path}, or remove it and start serve again for a new token`,
      });
    const text = (await fh.readFile("utf8")).trim();
    if (!TOKEN_RE.test(text))
      throw new ConfigError(`${path} does not hold a serve token (64 hex digits)`, [], {
        hint: `remove it and start serve again for a new token: rm ${path}`,
      });
    return text;
  } finally {
    await fh.close();
  }
}

/** The token, made now when there is none; `created` says which. */
export async function loadOrCreateToken(stateDir: string): Promise<{ token: string; created: boolean }> {
  const have = await readToken(stateDir);
  if (have) return { token: have, created: false };
  const st = await fsp.stat(stateDir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new NotFoundError(`state dir ${stateDir} does not exist`, {
      hint: "create it: agentshare init (or give --state-dir)",
    });
  const token = randomBytes(32).toString("hex");
  const tmp = join(stateDir, `.${TOKEN_FILE}.${process.pid}.${randomBytes(4).toString("hex")}`);
  await fsp.writeFile(tmp, `${token}\n`, { mode: 0o600, flag: "wx" });
  try {
    const fh = await fsp.open(tmp, "r");
    await fh.sync();
    await fh.close();
    await fsp.link(tmp, tokenPath(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // another serve made one first: use that one
    const other = await readToken(stateDir);
    if (other) return { token: other, created: false };
    throw err;
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
  return { token, created: true };
}

/** The console's login URL: the token travels in the fragment, which browsers never send to a server. */
export const loginUrl = (base: string, token: string) => `${base}/#token=${token}`;

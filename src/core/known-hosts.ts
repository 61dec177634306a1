// Which keys an OpenSSH known_hosts file vouches for at one host and port (sshd(8), "SSH_KNOWN_HOSTS
// FILE FORMAT"): comma-separated patterns with `*`/`?` wildcards and `!` negation, `[host]:port`
// for a port other than 22, hashed names (`|1|salt|hmac-sha1`), and `@revoked` lines. The keys
// themselves are returned as their lines' `type base64` part for parsePublicKey.
import { createHmac } from "node:crypto";

export interface KnownHostKeys {
  /** `type base64` of each key the file vouches for at that host. */
  keys: string[];
  /** `type base64` of keys marked @revoked for it: never accepted. */
  revoked: string[];
}

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("")}$`,
    "i",
  );

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split("|"); // "", "1", salt, hash
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2] as string, "base64");
  const want = Buffer.from(parts[3] as string, "base64");
  const got = createHmac("sha1", salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether a line's host field (comma-separated patterns) covers `name`. */
function fieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|")) return hashedMatches(field, name);
  let hit = false;
  for (const p of field.split(",")) {
    const negated = p.startsWith("!");
    const glob = negated ? p.slice(1) : p;
    if (!globToRegExp(glob).test(name)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

/** The name known_hosts uses for a host and port: `host`, or `[host]:port` when the port is not 22. */
export const knownHostsName = (host: string, port: number): string =>
  port === 22 ? host : `[${host}]:${port}`;

/** The keys `text` vouches for (and revokes) at `host`:`port`. */
export function knownHostKeys(text: string, host: string, port: number): KnownHostKeys {
  const name = knownHostsName(host, port);
  const keys: string[] = [];
  const revoked: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = line.split(/\s+/);
    let marker: string | undefined;
    if (words[0]?.startsWith("@")) marker = words.shift();
    if (marker === "@cert-authority") continue; // host certificates are not used here
    const [field, type, b64] = words;
    if (!field || !type || !b64 || !fieldMatches(field, name)) continue;
    (marker === "@revoked" ? revoked : keys).push(`${type} ${b64}`);
  }
  return { keys: keys.filter((k) => !revoked.includes(k)), revoked };
}

// SSH keys of an agent, made on the host at provision: the client key the host logs in with, and
// the guest's host key, pinned on the host before the guest first boots (no trust on first use).
import { createHash } from "node:crypto";
import { join } from "node:path";
import ssh2 from "ssh2";
import { DataError, InternalError, NotFoundError } from "../errors.js";
import type { Host } from "../host/host.js";

/** One public key as OpenSSH writes it: `type base64 [comment]`. */
export interface PublicKey {
  type: string;
  /** The decoded key blob, byte for byte what an SSH server offers as its host key. */
  blob: Buffer;
  comment: string;
}

/** What cloud-init needs for the guest: authorized_keys line and `ssh_keys` ed25519 pair. */
export interface AgentKeysForGuest {
  clientPublicKey: string;
  hostPrivateKey: string;
  hostPublicKey: string;
}

/** What `exec` needs to log in to the guest and check who answers. */
export interface AgentKeys {
  privateKey: string;
  hostKeys: PublicKey[];
  keyPath: string;
  knownHostsPath: string;
}

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)$/;

/** The first length-prefixed string of an SSH key blob: the key type it claims. */
export function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  return n > 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString("latin1") : undefined;
}

/**
 * Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`), also with a known_hosts host
 * pattern in front. Throws DataError naming `source` when the line is not a public key.
 */
export function parsePublicKey(line: string, source = "public key"): PublicKey {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => KEY_TYPE.test(w));
  const type = at >= 0 ? words[at] : undefined;
  const b64 = at >= 0 ? words[at + 1] : undefined;
  const fix = "expected `ssh-ed25519 AAAA… [comment]` as written by ssh-keygen";
  if (!type || !b64) throw new DataError(`${source}: not an OpenSSH public key line; ${fix}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new DataError(`${source}: key data is not base64; ${fix}`);
  const blob = Buffer.from(b64, "base64");
  if (blobType(blob) !== type)
    throw new DataError(`${source}: the key data does not hold a ${type} key (corrupt or cut short); ${fix}`);
  return { type, blob, comment: words.slice(at + 2).join(" ") };
}

/** `type base64` without comment or host pattern: the form two keys are compared in. */
export const formatPublicKey = (k: PublicKey): string => `${k.type} ${k.blob.toString("base64")}`;

/** `SHA256:…` as `ssh-keygen -lf` prints it, to name a key in messages. */
export const fingerprint = (blob: Buffer): string =>
  `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;

/** Every key in a known_hosts text (comments and blank lines skipped). */
export function parseKnownHosts(text: string, source = "known_hosts"): PublicKey[] {
  return text
    .split("\n")
    .map((l, i) => ({ l: l.trim(), i }))
    .filter(({ l }) => l !== "" && !l.startsWith("#"))
    .map(({ l, i }) => parsePublicKey(l, `${source} line ${i + 1}`));
}

/** Bytes of an ssh-ed25519 public key blob: string "ssh-ed25519" (4+11) + string key (4+32). */
const ED25519_BLOB_BYTES = 51;

/**
 * A new ed25519 pair in OpenSSH format (private: `-----BEGIN OPENSSH PRIVATE KEY-----`).
 * ssh2 1.17 strips leading zero bytes off the public key, so about 1 pair in 256 is malformed
 * (OpenSSH: "error in libcrypto"; mscdex/ssh2#1390, #1513, open); such pairs are made again.
 */
export function generateKeyPair(comment: string): { privateKey: string; publicKey: string } {
  for (let attempt = 0; attempt < 16; attempt++) {
    const kp = ssh2.utils.generateKeyPairSync("ed25519", { comment });
    const b64 = kp.public.trim().split(/\s+/)[1] ?? "";
    if (Buffer.from(b64, "base64").length === ED25519_BLOB_BYTES)
      return { privateKey: kp.private, publicKey: kp.public.trim() };
  }
  throw new InternalError("ssh2 made 16 malformed ed25519 keys in a row");
}

/** Both key pairs of an agent, made in memory: what provision plans with before it writes anything. */
export interface AgentKeyPairs extends AgentKeysForGuest {
  clientPrivateKey: string;
}

/** Makes the agent's client key pair and the guest's host key pair; no I/O. */
export function makeAgentKeys(name: string): AgentKeyPairs {
  const client = generateKeyPair(`agentshare@host-for-${name}`);
  const host = generateKeyPair(`agentshare-guest-${name}`);
  return {
    clientPrivateKey: client.privateKey,
    clientPublicKey: client.publicKey,
    hostPrivateKey: host.privateKey,
    hostPublicKey: host.publicKey,
  };
}

/**
 * Writes into `agentDir`: id_ed25519 (0600), id_ed25519.pub and known_hosts (the guest host key,
 * pinned). Replaces any keys there: the seed ISO of the same provision must carry this host key.
 */
export async function writeAgentKeys(
  host: Pick<Host, "writeFileAtomic">,
  agentDir: string,
  k: AgentKeyPairs,
): Promise<void> {
  await host.writeFileAtomic(join(agentDir, "id_ed25519"), `${k.clientPrivateKey.trim()}\n`, 0o600);
  await host.writeFileAtomic(join(agentDir, "id_ed25519.pub"), `${k.clientPublicKey}\n`, 0o644);
  await host.writeFileAtomic(join(agentDir, "known_hosts"), `${k.hostPublicKey}\n`, 0o644);
}

/** makeAgentKeys + writeAgentKeys; returns what cloud-init needs for the guest. */
export async function generateAgentKeys(
  host: Pick<Host, "writeFileAtomic">,
  agentDir: string,
  name: string,
): Promise<AgentKeysForGuest> {
  const k = makeAgentKeys(name);
  await writeAgentKeys(host, agentDir, k);
  return {
    clientPublicKey: k.clientPublicKey,
    hostPrivateKey: k.hostPrivateKey,
    hostPublicKey: k.hostPublicKey,
  };
}

async function readKeyFile(host: Pick<Host, "readText">, path: string, what: string): Promise<string> {
  try {
    return await host.readText(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new NotFoundError(`${what} ${path} does not exist`, {
        hint: "the keys are made when the agent is provisioned: `agentshare provision NAME`",
      });
    throw new DataError(`cannot read ${what} ${path}: ${code ?? String(err)}`, { cause: err });
  }
}

/** Reads the keys generateAgentKeys wrote; NotFoundError when one is missing, DataError when one is bad. */
export async function loadAgentKeys(host: Pick<Host, "readText">, agentDir: string): Promise<AgentKeys> {
  const keyPath = join(agentDir, "id_ed25519");
  const knownHostsPath = join(agentDir, "known_hosts");
  const privateKey = await readKeyFile(host, keyPath, "the agent's SSH key");
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error || !parsed.isPrivateKey())
    throw new DataError(`${keyPath} is not an OpenSSH private key`, {
      hint: "re-provision the agent to make new keys",
    });
  const hostKeys = parseKnownHosts(
    await readKeyFile(host, knownHostsPath, "the pinned guest host key"),
    knownHostsPath,
  );
  if (hostKeys.length === 0)
    throw new DataError(`${knownHostsPath} pins no host key`, {
      hint: "re-provision the agent to make new keys",
    });
  return { privateKey, hostKeys, keyPath, knownHostsPath };
}

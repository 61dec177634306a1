// Agent keys: files and modes, cross-checked with the real ssh-keygen; parsing of public key lines.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import ssh2 from "ssh2";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  fingerprint,
  formatPublicKey,
  generateAgentKeys,
  generateKeyPair,
  loadAgentKeys,
  parseKnownHosts,
  parsePublicKey,
} from "../../src/adapters/ssh-keys.js";
import { hostKeyAlgorithms } from "../../src/adapters/ssh.js";
import { DataError, NotFoundError } from "../../src/errors.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentshare-keys-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const keygen = (args: string[]) => execFileSync("ssh-keygen", args, { encoding: "utf8" });

describeWithTools(["ssh-keygen"])("generateAgentKeys with ssh-keygen as the judge", () => {
  it("writes id_ed25519 0600, id_ed25519.pub and known_hosts that ssh-keygen reads back", async () => {
    assertTools(["ssh-keygen"]);
    const k = await generateAgentKeys(host, dir, "web1");
    expect((await stat(join(dir, "id_ed25519"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "known_hosts"))).mode & 0o777).toBe(0o644);
    // ssh-keygen -y derives the public key from the private one: must be the .pub we wrote
    const derived = keygen(["-y", "-f", join(dir, "id_ed25519")]).trim();
    expect(formatPublicKey(parsePublicKey(derived))).toBe(formatPublicKey(parsePublicKey(k.clientPublicKey)));
    expect((await readFile(join(dir, "id_ed25519.pub"), "utf8")).trim()).toBe(k.clientPublicKey);
    // the pinned key is the host key's public half, and our fingerprint is ssh-keygen's
    const hostKeyFile = join(dir, "hostkey");
    await writeFile(hostKeyFile, k.hostPrivateKey, { mode: 0o600 });
    const hostPub = keygen(["-y", "-f", hostKeyFile]).trim();
    const pinned = parseKnownHosts(await readFile(join(dir, "known_hosts"), "utf8"));
    expect(pinned.map(formatPublicKey)).toEqual([formatPublicKey(parsePublicKey(hostPub))]);
    const lf = keygen(["-l", "-f", join(dir, "known_hosts")]);
    expect(lf).toContain(fingerprint(pinned[0]!.blob));
    expect(k.hostPrivateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(k.hostPublicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* agentshare-guest-web1$/);
  });

  it("makes different keys each time, and loadAgentKeys reads them back", async () => {
    const a = await generateAgentKeys(host, dir, "web1");
    const loaded = await loadAgentKeys(host, dir);
    expect(formatPublicKey(loaded.hostKeys[0]!)).toBe(formatPublicKey(parsePublicKey(a.hostPublicKey)));
    const b = await generateAgentKeys(host, dir, "web1");
    expect(b.hostPublicKey).not.toBe(a.hostPublicKey);
    expect(b.clientPublicKey).not.toBe(a.clientPublicKey);
    expect((await loadAgentKeys(host, dir)).privateKey).not.toBe(loaded.privateKey);
  });
});

describeWithTools(["cloud-init"])("the keys in cloud-init's terms", () => {
  it("cloud-init schema accepts them as ssh_keys ed25519 pair and authorized key", async () => {
    assertTools(["cloud-init"]);
    const k = await generateAgentKeys(host, dir, "web1");
    const doc = {
      users: [{ name: "agent", ssh_authorized_keys: [k.clientPublicKey] }],
      ssh_keys: { ed25519_private: k.hostPrivateKey, ed25519_public: k.hostPublicKey },
    };
    const file = join(dir, "user-data");
    await writeFile(file, `#cloud-config\n${yaml.dump(doc, { lineWidth: -1 })}`);
    expect(execFileSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" })).toMatch(
      /^Valid cloud-config/,
    );
  });
});

it("generateKeyPair never hands out a malformed key (ssh2 drops a leading zero byte in ~1/256)", () => {
  for (let i = 0; i < 2000; i++) {
    const k = generateKeyPair("c");
    const pub = parsePublicKey(k.publicKey);
    expect(pub.blob.length).toBe(51);
    const priv = ssh2.utils.parseKey(k.privateKey);
    if (priv instanceof Error) throw priv;
    expect(priv.getPublicSSH().equals(pub.blob)).toBe(true);
  }
});

it("parsePublicKey accepts a known_hosts host pattern and drops the comment when formatting", () => {
  const line = generateKeyPair("my comment").publicKey;
  const k = parsePublicKey(line);
  expect(k.type).toBe("ssh-ed25519");
  expect(k.comment).toBe("my comment");
  expect(parsePublicKey(`[10.0.0.5]:22 ${line}`).blob.equals(k.blob)).toBe(true);
  expect(formatPublicKey(k)).toBe(line.split(" ").slice(0, 2).join(" "));
});

it("parsePublicKey names what is wrong", () => {
  expect(() => parsePublicKey("hello world", "known_hosts line 1")).toThrow(
    /known_hosts line 1: not an OpenSSH public key/,
  );
  expect(() => parsePublicKey("ssh-ed25519 !!!!")).toThrow(/not base64/);
  // an RSA blob labelled ed25519: the blob's own type must match
  expect(() => parsePublicKey("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB")).toThrow(DataError);
  expect(() => parsePublicKey("ssh-ed25519 AAAA")).toThrow(/does not hold a ssh-ed25519 key/);
});

it("loadAgentKeys: NotFoundError naming the missing file, DataError for a bad one", async () => {
  await expect(loadAgentKeys(host, dir)).rejects.toThrow(NotFoundError);
  await expect(loadAgentKeys(host, dir)).rejects.toThrow(join(dir, "id_ed25519"));
  await generateAgentKeys(host, dir, "web1");
  await writeFile(join(dir, "known_hosts"), "# nothing pinned\n");
  await expect(loadAgentKeys(host, dir)).rejects.toThrow(/pins no host key/);
  await rm(join(dir, "known_hosts"));
  await expect(loadAgentKeys(host, dir)).rejects.toThrow(
    /pinned guest host key .*known_hosts does not exist/,
  );
  await writeFile(join(dir, "id_ed25519"), "not a key\n");
  await expect(loadAgentKeys(host, dir)).rejects.toThrow(/is not an OpenSSH private key/);
});

it("hostKeyAlgorithms asks the server for the pinned key's type only", () => {
  const ed = parsePublicKey(generateKeyPair("a").publicKey);
  expect(hostKeyAlgorithms([ed, ed])).toEqual(["ssh-ed25519"]);
  const dss = { ...ed, type: "ssh-dss" };
  expect(() => hostKeyAlgorithms([dss])).toThrow(/ssh-dss is not supported; use an ed25519 key/);
});

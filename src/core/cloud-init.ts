// Agent spec → NoCloud user-data and meta-data. Pure and deterministic: the instance id,
// the health token and key material come in the spec. Every user value is a YAML scalar
// emitted by js-yaml, so it round-trips exactly whatever it contains.
import yaml from "js-yaml";
import { GUEST_CONFIG_DIR, GUEST_GLOBAL, GUEST_INBOX, GUEST_USER } from "./guest-paths.js";
import {
  AGENT_UNIT,
  buildAgentUnit,
  buildHealthUnit,
  HEALTH_SERVER_PATH,
  HEALTH_UNIT,
  RUN_WRAPPER_PATH,
  waitForHealthScript,
} from "./guest-units.js";
import { FAILED_MARKER, GLOBAL_TAG, INBOX_TAG, READY_MARKER } from "./paths.js";

export { GUEST_CONFIG_DIR, GUEST_GLOBAL, GUEST_INBOX, GUEST_USER };

/** What a real guest runs, shipped on the seed ISO: no network access is needed in the guest. */
export interface GuestPayload {
  runWrapper: string;
  healthServer: string;
}

export interface UserDataSpec {
  name: string;
  uid: number;
  gid: number;
  sshKeys: readonly string[];
  command: string;
  tmpSize: string;
  healthPort: number;
  token: string;
  instanceId: string;
  /** The guest's SSH host key, made on the host so it is pinned before the first boot. */
  sshHostKey?: { privateKey: string; publicKey: string };
  /** Present for a real cloud-init guest: the wrapper, the health server and their units. */
  guest?: GuestPayload;
}

const dump = (doc: unknown) => yaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' });

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A daily updatedb walk through a virtiofs share exhausts virtiofsd's file descriptors: prune it. */
const PRUNE_UPDATEDB =
  "f=/etc/updatedb.conf; if [ -f $f ] && ! grep -q virtiofs $f; then " +
  "sed -i 's/^PRUNEFS=\"/PRUNEFS=\"virtiofs fuse.virtiofs /' $f; fi";

function writeFiles(spec: UserDataSpec) {
  const agentJson = {
    name: spec.name,
    instanceId: spec.instanceId,
    healthPort: spec.healthPort,
    uid: spec.uid,
    gid: spec.gid,
    command: spec.command,
  };
  const files: Array<Record<string, string>> = [
    { path: `${GUEST_CONFIG_DIR}/token`, content: spec.token, permissions: "0600", owner: "root:root" },
    {
      path: `${GUEST_CONFIG_DIR}/agent.json`,
      content: `${JSON.stringify(agentJson, null, 2)}\n`,
      permissions: "0644",
    },
    { path: `${GUEST_CONFIG_DIR}/command`, content: spec.command, permissions: "0644" },
    { path: "/etc/profile.d/agentshare.sh", content: "export TMPDIR=/tmp\n", permissions: "0644" },
  ];
  if (spec.guest)
    files.push(
      { path: RUN_WRAPPER_PATH, content: spec.guest.runWrapper, permissions: "0755" },
      { path: HEALTH_SERVER_PATH, content: spec.guest.healthServer, permissions: "0755" },
      { path: `/etc/systemd/system/${HEALTH_UNIT}`, content: buildHealthUnit(spec), permissions: "0644" },
      { path: `/etc/systemd/system/${AGENT_UNIT}`, content: buildAgentUnit(spec), permissions: "0644" },
    );
  return files;
}

function serviceCommands(spec: UserDataSpec): unknown[] {
  if (!spec.guest) return [];
  const units = spec.command.trim() ? [HEALTH_UNIT, AGENT_UNIT] : [HEALTH_UNIT];
  return [
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", "--no-block", ...units],
  ];
}

/** `printf … > FILE.tmp && mv -f FILE.tmp FILE`: a marker the host reads whole or not at all. */
const writeMarker = (file: string, format: string, args: string) =>
  `printf '${format}' ${args} > ${file}.tmp && mv -f ${file}.tmp ${file}`;

/**
 * Written last: the ready marker (this provision's instance id), which the host waits for. With
 * the health server, after waiting for it: when it reports it cannot listen, the failure marker
 * (instance id, then the reason) instead, so the host stops waiting at once.
 */
function markerCommand(spec: UserDataSpec): string {
  const iid = shellQuote(spec.instanceId);
  const ready = writeMarker(`${GUEST_INBOX}/${READY_MARKER}`, "%s\\n", iid);
  if (!spec.guest) return ready;
  const failed = writeMarker(`${GUEST_INBOX}/${FAILED_MARKER}`, "%s\\n%s\\n", `${iid} "$out"`);
  return [
    `out=$(${waitForHealthScript(spec.healthPort)}); rc=$?`,
    `if [ $rc -eq 2 ]; then ${failed}; exit 1; fi`,
    `[ $rc -eq 0 ] || echo 'agentshare: health server did not answer' >&2`,
    ready,
  ].join("\n");
}

function runcmd(spec: UserDataSpec): unknown[] {
  const home = `/home/${GUEST_USER}`;
  const owner = `${spec.uid}:${spec.gid}`;
  return [
    ["sh", "-c", PRUNE_UPDATEDB],
    ["ln", "-sfn", GUEST_GLOBAL, `${home}/global`],
    ["ln", "-sfn", GUEST_INBOX, `${home}/inbox`],
    ["ln", "-sfn", `${GUEST_INBOX}/outputs`, `${home}/outputs`],
    ["chown", "-h", owner, `${home}/global`, `${home}/inbox`, `${home}/outputs`],
    ...serviceCommands(spec),
    ["sh", "-c", markerCommand(spec)],
  ];
}

function sshSettings(spec: UserDataSpec): Record<string, unknown> {
  if (!spec.sshHostKey) return {};
  return {
    ssh_keys: { ed25519_private: spec.sshHostKey.privateKey, ed25519_public: spec.sshHostKey.publicKey },
    ssh_pwauth: false,
    disable_root: true,
  };
}

/** Builds `user-data` (#cloud-config): agent user with the inbox owner's uid and gid, both shares, /tmp tmpfs. */
export function buildUserData(spec: UserDataSpec): string {
  const user: Record<string, unknown> = {
    name: GUEST_USER,
    uid: spec.uid,
    primary_group: String(spec.gid),
    no_user_group: true,
    shell: "/bin/bash",
    lock_passwd: true,
  };
  if (spec.sshKeys.length) user.ssh_authorized_keys = [...spec.sshKeys];
  const doc = {
    // bootcmd runs before users-groups: the agent's group must exist with the inbox's gid.
    bootcmd: [["sh", "-c", `getent group ${spec.gid} >/dev/null || groupadd -g ${spec.gid} ${GUEST_USER}`]],
    users: [user],
    ...sshSettings(spec),
    mounts: [
      [GLOBAL_TAG, GUEST_GLOBAL, "virtiofs", "ro,nofail", "0", "0"],
      [INBOX_TAG, GUEST_INBOX, "virtiofs", "rw,nofail", "0", "0"],
      ["tmpfs", "/tmp", "tmpfs", `rw,nosuid,nodev,noexec,size=${spec.tmpSize},mode=1777`, "0", "0"],
    ],
    write_files: writeFiles(spec),
    runcmd: runcmd(spec),
  };
  return `#cloud-config\n${dump(doc)}`;
}

/** Builds `meta-data`: a fresh instance id per provision makes cloud-init run again; hostname = agent name. */
export function buildMetaData(spec: { name: string; instanceId: string }): string {
  return dump({ "instance-id": spec.instanceId, "local-hostname": spec.name });
}

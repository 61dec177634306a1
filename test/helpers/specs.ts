// Fixed specs for golden files and property tests.
import type { DomainSpec } from "../../src/core/domain-xml.js";
import type { UserDataSpec } from "../../src/core/cloud-init.js";

export const baseDomain: DomainSpec = {
  name: "agent-01",
  uuid: "6b8a4c7e-1d2f-4a3b-9c8d-0e1f2a3b4c5d",
  description: "",
  memoryMiB: 1024,
  vcpus: 2,
  domainType: "qemu",
  diskPath: "/var/lib/agentshare/agents/agent-01/disk.qcow2",
  seedIso: "/var/lib/agentshare/agents/agent-01/seed.iso",
  globalDir: "/srv/agentshare/global-ro",
  inboxDir: "/srv/agentshare/agent-01-inbox",
  readonlyGlobal: false,
  network: "default",
  consoleLog: "/var/lib/agentshare/agents/agent-01/console.log",
  tcgCacheMiB: 64,
  freePageReporting: true,
  metadata: {
    specHash: "0".repeat(64),
    createdAt: "2026-11-22T06:00:00.000Z",
    command: "",
    instanceId: "iid-agent-01-1",
  },
};

export const baseUserData: UserDataSpec = {
  name: "agent-01",
  uid: 1000,
  gid: 1000,
  sshKeys: [],
  command: "",
  tmpSize: "512m",
  healthPort: 8118,
  token: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  instanceId: "iid-agent-01-1",
};

/** Named variants: each becomes test/golden/<name>.xml and <name>.user-data. */
export const goldenCases: Array<{ name: string; domain: DomainSpec; userData: UserDataSpec }> = [
  { name: "default", domain: baseDomain, userData: baseUserData },
  {
    name: "kernel-boot-no-disk",
    domain: {
      ...baseDomain,
      diskPath: undefined,
      network: null,
      kernel: {
        path: "/boot/vmlinuz",
        initrd: "/boot/initrd.img",
        cmdline: "console=ttyS0 agentshare.instance=iid-1",
      },
    },
    userData: { ...baseUserData, tmpSize: "64m" },
  },
  {
    name: "readonly-libvirt-11-kvm",
    // tcgCacheMiB is set (from the config) but a KVM domain gets no <tcg>
    domain: { ...baseDomain, domainType: "kvm", readonlyGlobal: true, memoryMiB: 4096, vcpus: 4 },
    userData: { ...baseUserData, uid: 2001, gid: 3001, tmpSize: "2g" },
  },
  {
    name: "real-guest",
    domain: {
      ...baseDomain,
      kernel: {
        path: "/var/lib/agentshare/images/debian-12.vmlinuz",
        initrd: "/var/lib/agentshare/images/debian-12.initrd.img",
        cmdline: "root=/dev/vda rw console=ttyS0",
      },
    },
    userData: {
      ...baseUserData,
      command: "python3 /mnt/global/tools/agent.py --loop",
      sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOp agentshare@host"],
      sshHostKey: {
        privateKey:
          "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost agent-01",
      },
      guest: {
        runWrapper: "#!/usr/bin/python3 -I\nprint('wrapper')\n",
        healthServer: "#!/usr/bin/env node\nconsole.log('server');\n",
      },
    },
  },
  {
    // today's XML before issue 13: QEMU's own translation cache, libvirt's own balloon
    name: "qemu-defaults",
    domain: { ...baseDomain, tcgCacheMiB: undefined, freePageReporting: false },
    userData: baseUserData,
  },
  {
    name: "loopback-access",
    domain: {
      ...baseDomain,
      loopbackForward: [
        { hostPort: 41001, guestPort: 8118 },
        { hostPort: 41002, guestPort: 22 },
      ],
    },
    userData: baseUserData,
  },
  {
    name: "specials",
    domain: {
      ...baseDomain,
      name: "agent-x",
      description: `A & B <c> "d" 'e' ]]> \r\n\t tab — ünïcødé 🚀`,
      inboxDir: "/srv/agent share & co/agent-x-inbox",
      metadata: { ...baseDomain.metadata, command: `python3 -c 'print("<&>")' ]]> --- \n: x` },
    },
    userData: {
      ...baseUserData,
      name: "agent-x",
      command: `python3 -c 'print("<&>")' ]]>\n---\n: &anchor *alias # not a comment\r\n`,
      sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx op&<ops>@host 'quoted' #1"],
    },
  },
];

import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { buildMetaData, buildUserData } from "../../src/core/cloud-init.js";
import { findXmlIllegal } from "../../src/core/xml-text.js";
import { expectGolden } from "../helpers/golden.js";
import { randomText, rng } from "../helpers/random-text.js";
import { baseUserData, goldenCases } from "../helpers/specs.js";

const load = (s: string) => yaml.load(s) as Record<string, any>;

describe("buildUserData", () => {
  it.each(goldenCases)("matches the golden file for $name", ({ name, userData }) => {
    expectGolden(`${name}.user-data`, buildUserData(userData));
  });

  it("starts with #cloud-config and creates the agent user with the inbox uid and gid", () => {
    const text = buildUserData({ ...baseUserData, uid: 2001, gid: 3001 });
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const doc = load(text);
    expect(doc.users[0]).toMatchObject({ name: "agent", uid: 2001, primary_group: "3001" });
    expect(doc.bootcmd[0][2]).toContain("groupadd -g 3001 agent");
  });

  it("mounts both tags, and /tmp as a noexec,nosuid tmpfs of the configured size", () => {
    const doc = load(buildUserData({ ...baseUserData, tmpSize: "2g" }));
    expect(doc.mounts).toEqual([
      ["agentglobal", "/mnt/global", "virtiofs", "ro,nofail", "0", "0"],
      ["agentinbox", "/mnt/inbox", "virtiofs", "rw,nofail", "0", "0"],
      ["tmpfs", "/tmp", "tmpfs", "rw,nosuid,nodev,noexec,size=2g,mode=1777", "0", "0"],
    ]);
  });

  it("writes the readiness marker with the instance id as the last command", () => {
    const doc = load(buildUserData(baseUserData));
    expect(doc.runcmd.at(-1)[2]).toMatch(
      /printf '%s\\n' 'iid-agent-01-1' > \/mnt\/inbox\/\.agentshare-ready\.tmp/,
    );
  });

  it("delivers the token root-only and never into the inbox", () => {
    const doc = load(buildUserData(baseUserData));
    const tokenFile = doc.write_files.find((f: any) => f.content === baseUserData.token);
    expect(tokenFile).toMatchObject({ path: "/etc/agentshare/token", permissions: "0600" });
    expect(JSON.stringify(doc.runcmd)).not.toContain(baseUserData.token);
  });

  it("installs the wrapper, the health server and their units for a real guest", () => {
    const guest = { runWrapper: "#!/bin/sh\nw\n", healthServer: "#!/usr/bin/env node\ns\n" };
    const doc = load(buildUserData({ ...baseUserData, command: "run-agent", guest }));
    const byPath = Object.fromEntries(doc.write_files.map((f: any) => [f.path, f]));
    expect(byPath["/usr/local/bin/agentshare-run"]).toMatchObject({
      content: guest.runWrapper,
      permissions: "0755",
    });
    expect(byPath["/usr/local/lib/agentshare/health-server.mjs"].content).toBe(guest.healthServer);
    const health = byPath["/etc/systemd/system/agentshare-health.service"].content;
    expect(health).toMatch(/--port 8118 --token-file \/etc\/agentshare\/token --agent agent-01/);
    expect(health).toMatch(/^Restart=always$/m);
    const agent = byPath["/etc/systemd/system/agentshare-agent.service"].content;
    expect(agent).toMatch(
      /^ExecStart=\/usr\/local\/bin\/agentshare-run -- \/bin\/sh \/etc\/agentshare\/command$/m,
    );
    expect(agent).toMatch(/^User=1000$/m);
    const enable = doc.runcmd.find((c: string[]) => c[0] === "systemctl" && c[1] === "enable");
    expect(enable).toEqual([
      "systemctl",
      "enable",
      "--now",
      "--no-block",
      "agentshare-health.service",
      "agentshare-agent.service",
    ]);
    expect(doc.runcmd.at(-1)[2]).toContain(".agentshare-ready");
  });

  it("starts no agent unit when there is no command", () => {
    const doc = load(
      buildUserData({ ...baseUserData, command: "  ", guest: { runWrapper: "w", healthServer: "s" } }),
    );
    const enable = doc.runcmd.find((c: string[]) => c[0] === "systemctl" && c[1] === "enable");
    expect(enable).toEqual(["systemctl", "enable", "--now", "--no-block", "agentshare-health.service"]);
  });

  it("pins the guest's host key made on the host (cloud-init then generates none)", () => {
    const key = { privateKey: "PRIV", publicKey: "ssh-ed25519 AAAA host" };
    const doc = load(buildUserData({ ...baseUserData, sshHostKey: key }));
    expect(doc.ssh_keys).toEqual({ ed25519_private: "PRIV", ed25519_public: "ssh-ed25519 AAAA host" });
    expect(doc.ssh_pwauth).toBe(false);
  });

  it("round-trips any command and ssh key comment exactly (2,000 random strings)", () => {
    const next = rng(7);
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const command = randomText(next);
      const comment = randomText(next).replace(/[\r\n]/g, " ");
      if (findXmlIllegal(command) || findXmlIllegal(comment)) continue;
      const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ${comment}`;
      const doc = load(buildUserData({ ...baseUserData, command, sshKeys: [key] }));
      expect(doc.write_files.find((f: any) => f.path === "/etc/agentshare/command").content).toBe(command);
      expect(doc.users[0].ssh_authorized_keys).toEqual([key]);
      checked++;
    }
    expect(checked).toBeGreaterThan(1500);
  });
});

describe("buildMetaData", () => {
  it("sets the instance id and the hostname", () => {
    expect(load(buildMetaData({ name: "agent-01", instanceId: "iid-1" }))).toEqual({
      "instance-id": "iid-1",
      "local-hostname": "agent-01",
    });
  });
});

// The pure parts of the image boot bench: the user-data it sends (our builder's, plus a
// diagnostic script), and the checks on the guest's report and serial console.
import yaml from "js-yaml";
import { buildUserData } from "../../src/core/cloud-init.js";

export type Variant = "trimmed" | "stock";

/**
 * Debian 12's stock module lists (/etc/cloud/cloud.cfg of cloud-init 22.4.2-1+deb12u4), the
 * bench's baseline, minus `locale`: without a locales package it fails and cloud-init ends in error.
 */
export const STOCK_MODULES = {
  cloud_init_modules:
    "migrator seed_random bootcmd write-files growpart resizefs disk_setup mounts set_hostname update_hostname update_etc_hosts ca-certs rsyslog users-groups ssh",
  cloud_config_modules:
    "snap ssh-import-id keyboard set-passwords grub-dpkg apt-pipelining apt-configure ntp timezone disable-ec2-metadata runcmd byobu",
  cloud_final_modules:
    "package-update-upgrade-install fan landscape lxd write-files-deferred puppet chef mcollective salt-minion reset_rmc refresh_rmc_and_interface rightscale_userdata scripts-vendor scripts-per-once scripts-per-boot scripts-per-instance scripts-user ssh-authkey-fingerprints keys-to-console install-hotplug phone-home final-message power-state-change",
};

/** Our builder's user-data with the diag script appended; "stock" restores Debian's module lists. */
export function userData(instanceId: string, token: string, variant: Variant, diag: string): string {
  const base = buildUserData({
    name: "imgtest",
    uid: 1000,
    gid: 1000,
    sshKeys: [],
    command: "",
    tmpSize: "256m",
    healthPort: 8118,
    token,
    instanceId,
  });
  const doc = yaml.load(base.replace(/^#cloud-config\n/, "")) as Record<string, unknown[]>;
  // Diagnostics only, appended after the builder's own entries (the marker stays last of the builder's).
  (doc.write_files ??= []).push({ path: "/usr/local/sbin/imgtest-diag", content: diag, permissions: "0755" });
  (doc.runcmd ??= []).push(["sh", "-c", "setsid /usr/local/sbin/imgtest-diag </dev/null >/dev/null 2>&1 &"]);
  const extra =
    variant === "stock"
      ? Object.fromEntries(Object.entries(STOCK_MODULES).map(([k, v]) => [k, v.split(" ")]))
      : {};
  return `#cloud-config\n${yaml.dump({ ...doc, ...extra }, { lineWidth: -1, noRefs: true })}`;
}

/** What must hold in the guest's report; returns the failed checks (empty = all good). */
export function checkDiag(diag: string): string[] {
  const want: Array<[string, RegExp]> = [
    ["cloud-init status done", /^status: done$/m],
    ["NoCloud datasource", /DataSourceNoCloud \[seed=/],
    ["no cloud-init errors", /"errors": \[\]/],
    ["/mnt/global ro virtiofs", /^\/mnt\/global\s+agentglobal\s+virtiofs\s+ro,/m],
    ["/mnt/inbox rw virtiofs", /^\/mnt\/inbox\s+agentinbox\s+virtiofs\s+rw,/m],
    ["/tmp is tmpfs", /^\/tmp\s+tmpfs\s+tmpfs\s+rw,nosuid,nodev,noexec/m],
    ["agent uid/gid 1000", /^uid=1000\(agent\) gid=1000\(\S+\)/m],
    ["agent's inbox file is 1000:1000 on the share", /== agent writes inbox\n1000:1000$/m],
    ["agent cannot write global", /must be refused\)\n.*Read-only file system\nrefused$/m],
    ["root cannot write global after remount", /refused by the host\)\n.*Read-only file system\nrefused$/m],
    ["Node 18+", /^v(1[89]|[2-9]\d)\./m],
    ["no failed units", /== failed units\n== machine-id/],
    ["no cloud-init.log warnings", /== cloud-init.log problems\n== result.json/],
  ];
  return want.filter(([, re]) => !re.test(diag)).map(([name]) => name);
}

/** What the serial console must show: cloud-init finished from the NoCloud seed, and no cloud-init warning. */
export function checkConsole(log: string): string[] {
  const text = log.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g"), "");
  const failed: string[] = [];
  if (!/Cloud-init v\. \S+ finished at .* Datasource DataSourceNoCloud/.test(text))
    failed.push("cloud-init finished from NoCloud");
  if (/cloud-init\[\d+\]: .*\[(WARNING|ERROR)\]/.test(text))
    failed.push("no cloud-init warnings on the console");
  return failed;
}

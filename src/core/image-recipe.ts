// The offline Debian 12 guest image, as data: which packages debootstrap installs and what
// we change in the tree before it becomes a disk. Pure: no I/O; the build op applies it.
// Nothing agentshare-specific goes in here: the image only needs cloud-init and Node ≥ 18,
// everything about agents arrives through cloud-init (so a downloaded cloud image works too).
import { createHash } from "node:crypto";

export const DEFAULT_IMAGE_NAME = "debian-12";
export const IMAGE_SUITE = "bookworm";
export const IMAGE_VARIANT = "minbase";
export const DEFAULT_IMAGE_SIZE = "2G";
/** The kernel command line for direct kernel boot of this image. */
export const IMAGE_CMDLINE = "root=/dev/vda rw console=ttyS0";

/**
 * What debootstrap installs. It does not resolve virtual packages, so python3-cffi-backend
 * (cloud-init → python3-cryptography → python3-cffi-backend-api-*) is named explicitly.
 * systemd-resolved gives the guest DNS from DHCP instead of a copy of the host's resolv.conf.
 */
export const IMAGE_PACKAGES: readonly string[] = [
  "systemd-sysv",
  "systemd",
  "systemd-resolved",
  "udev",
  "dbus",
  "kmod",
  "cloud-init",
  "python3-cffi-backend",
  "nodejs",
  "linux-image-cloud-amd64",
  "iproute2",
  "openssh-server",
  "curl",
  "ca-certificates",
  "python3",
  "sudo",
  "procps",
  "netbase",
  "less",
];

/** cloud-init modules kept: the ones our user-data uses plus cheap generic ones (users' own `packages:`, scripts). */
export const CLOUD_INIT_MODULES = {
  cloud_init_modules: [
    "bootcmd",
    "write-files",
    "growpart",
    "resizefs",
    "mounts",
    "set_hostname",
    "update_hostname",
    "update_etc_hosts",
    "users-groups",
    "ssh",
  ],
  cloud_config_modules: ["set-passwords", "timezone", "runcmd"],
  cloud_final_modules: [
    "package-update-upgrade-install",
    "write-files-deferred",
    "scripts-vendor",
    "scripts-per-once",
    "scripts-per-boot",
    "scripts-per-instance",
    "scripts-user",
    "final-message",
    "power-state-change",
  ],
} as const;

/** Timers that would wake a short-lived agent VM for nothing, and e2scrub_reap (5 s of boot under TCG): masked. */
export const MASKED_UNITS: readonly string[] = [
  "e2scrub_reap.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "e2scrub_all.timer",
  "fstrim.timer",
  "dpkg-db-backup.timer",
];

export interface TreeFile {
  path: string;
  content: string;
  mode: number;
}
export interface TreeLink {
  path: string;
  target: string;
}

export interface ImageRecipe {
  suite: string;
  variant: string;
  packages: readonly string[];
  files: readonly TreeFile[];
  links: readonly TreeLink[];
  /** Paths (relative to the tree) removed; a trailing `*` matches any suffix in that folder. */
  remove: readonly string[];
  sizeBytes: number;
}

function cloudCfg(): string {
  const lists = Object.entries(CLOUD_INIT_MODULES)
    .map(([key, mods]) => `${key}:\n${mods.map((m) => ` - ${m}`).join("\n")}`)
    .join("\n\n");
  return [
    "# Guest image: NoCloud seed (cidata) only; only the modules in use (no cc_locale: there is no",
    "# locales package, and `locale: false` is not valid in cloud-init 22.4's schema).",
    "datasource_list: [NoCloud, None]",
    "# RSA-3072 and DSA host keys cost ~5 s under TCG; ed25519 and ecdsa are enough.",
    "ssh_genkeytypes: [ed25519, ecdsa]",
    "",
    lists,
    "",
  ].join("\n");
}

function files(): TreeFile[] {
  return [
    { path: "etc/fstab", content: "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n", mode: 0o644 },
    // Empty: systemd generates a fresh id on first boot, so clones never share one.
    { path: "etc/machine-id", content: "", mode: 0o444 },
    { path: "etc/hostname", content: "localhost\n", mode: 0o644 },
    {
      path: "etc/hosts",
      content: "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
      mode: 0o644,
    },
    { path: "etc/cloud/cloud.cfg.d/90-agentshare-image.cfg", content: cloudCfg(), mode: 0o644 },
    {
      path: "etc/systemd/system/systemd-networkd-wait-online.service.d/agentshare-image.conf",
      content:
        "# one NIC that is up is enough; never hold the boot for two minutes\n[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20\n",
      mode: 0o644,
    },
  ];
}

function links(): TreeLink[] {
  const unit = (name: string) => `/lib/systemd/system/${name}`;
  return [
    // `systemctl enable systemd-networkd`, spelled out: its [Install] section and Also= units.
    {
      path: "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
      target: unit("systemd-networkd.service"),
    },
    {
      path: "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
      target: unit("systemd-networkd.socket"),
    },
    {
      path: "etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
      target: unit("systemd-networkd-wait-online.service"),
    },
    ...MASKED_UNITS.map((u) => ({ path: `etc/systemd/system/${u}`, target: "/dev/null" })),
  ];
}

/** Files that must not be shared by every VM made from the image, or that only cost space. */
const REMOVE: readonly string[] = [
  "etc/ssh/ssh_host_*",
  "var/cache/apt/archives/*.deb",
  "var/lib/apt/lists/*_Packages",
];

/** Builds the recipe for an image of `sizeBytes` (the ext4 file system; overlays may be bigger). */
export function buildImageRecipe(sizeBytes: number): ImageRecipe {
  return {
    suite: IMAGE_SUITE,
    variant: IMAGE_VARIANT,
    packages: IMAGE_PACKAGES,
    files: files(),
    links: links(),
    remove: REMOVE,
    sizeBytes,
  };
}

/** A short hash of everything that shapes the image: a recipe change means a new cache entry. */
export function recipeKey(recipe: ImageRecipe): string {
  const canonical = JSON.stringify([
    recipe.suite,
    recipe.variant,
    recipe.packages,
    recipe.files.map((f) => [f.path, f.content, f.mode]),
    recipe.links.map((l) => [l.path, l.target]),
    recipe.remove,
    recipe.sizeBytes,
    IMAGE_CMDLINE,
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** Why an image name cannot be used, or undefined: it becomes a file name under the images dir. */
export function checkImageName(name: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name))
    return "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit";
  if (name.includes("..")) return "must not contain '..'";
  return undefined;
}

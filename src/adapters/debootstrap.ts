// debootstrap: the argv builder, the apt-source parser that finds the Debian mirror this
// host already uses (so the build works wherever apt works), and the thin runner call.
import { join } from "node:path";
import { toolError, ToolError } from "../errors.js";
import type { Host } from "../host/host.js";

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
}

export interface DebootstrapSpec {
  suite: string;
  variant: string;
  packages: readonly string[];
  dir: string;
  mirror: string;
}

/** `debootstrap --variant=V --include=P,… SUITE DIR MIRROR`. */
export function debootstrapArgv(s: DebootstrapSpec): string[] {
  return [`--variant=${s.variant}`, `--include=${s.packages.join(",")}`, s.suite, s.dir, s.mirror];
}

/** Parses a deb822 `.sources` file (apt ≥ 1.1) into its stanzas. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const lines = text.split("\n").filter((l) => !l.startsWith("#"));
  for (const stanza of lines.join("\n").split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = "";
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m?.[1]) fields.set((last = m[1].toLowerCase()), (m[2] ?? "").trim());
      else if (/^\s+\S/.test(line) && last) fields.set(last, `${fields.get(last) ?? ""} ${line.trim()}`);
    }
    const list = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (!fields.has("uris")) continue;
    out.push({
      types: list("types"),
      uris: list("uris"),
      suites: list("suites"),
      components: list("components"),
      enabled: (fields.get("enabled") ?? "yes").toLowerCase() !== "no",
    });
  }
  return out;
}

/** Parses a one-line-format `.list` file: `deb [opts] URI SUITE COMPONENT…`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw
      .replace(/#.*/, "")
      .replace(/\[[^\]]*\]/, " ")
      .trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (!type || !uri || !suite || (type !== "deb" && type !== "deb-src")) continue;
    out.push({ types: [type], uris: [uri], suites: [suite], components, enabled: true });
  }
  return out;
}

/** The first enabled binary source carrying `suite` main over http(s): debootstrap's mirror. */
export function pickMirror(sources: readonly AptSource[], suite: string): string | undefined {
  for (const s of sources) {
    if (!s.enabled || !s.types.includes("deb") || !s.suites.includes(suite) || !s.components.includes("main"))
      continue;
    const uri = s.uris.find((u) => /^https?:\/\//.test(u));
    if (uri) return uri.replace(/\/+$/, "");
  }
  return undefined;
}

/** Reads /etc/apt/sources.list then sources.list.d/*.{list,sources} (apt's order) and picks the mirror. */
export async function loadAptMirror(
  host: Pick<Host, "readdir" | "readText">,
  suite: string,
  aptDir = "/etc/apt",
): Promise<string | undefined> {
  const files: string[] = [join(aptDir, "sources.list")];
  const d = join(aptDir, "sources.list.d");
  const names = (await host.readdir(d).catch(() => [])).map((e) => e.name);
  for (const n of names.sort()) if (n.endsWith(".list") || n.endsWith(".sources")) files.push(join(d, n));
  const sources: AptSource[] = [];
  for (const f of files) {
    const text = await host.readText(f).catch(() => undefined);
    if (text !== undefined)
      sources.push(...(f.endsWith(".sources") ? parseDeb822Sources(text) : parseOneLineSources(text)));
  }
  return pickMirror(sources, suite);
}

/** Runs debootstrap (minutes: downloads and installs every package). Throws a ToolError with its log tail. */
export async function runDebootstrap(
  host: Pick<Host, "run" | "readText">,
  tool: string,
  spec: DebootstrapSpec,
  timeoutMs = 45 * 60_000,
): Promise<void> {
  const argv = debootstrapArgv(spec);
  const r = await host.run(tool, argv, {
    timeoutMs,
    env: { ...process.env, LC_ALL: "C" } as Record<string, string>,
  });
  if (r.exitCode === 0) return;
  const log = await host.readText(join(spec.dir, "debootstrap", "debootstrap.log")).catch(() => "");
  throw toolError(
    ["debootstrap", ...argv],
    { exitCode: r.exitCode, stderr: `${r.stderr}\n${log.split("\n").slice(-8).join("\n")}` },
    {
      hint: `is ${spec.mirror} reachable? pass another --mirror, or see ${join(spec.dir, "debootstrap", "debootstrap.log")}`,
    },
  );
}

/** The Debian package that provides each tool the build runs. */
export const BUILD_TOOLS: Readonly<Record<string, string>> = {
  debootstrap: "debootstrap",
  "mkfs.ext4": "e2fsprogs",
  "qemu-img": "qemu-utils",
};

/** Absolute paths of the build tools (sbin included even when PATH lacks it); a ToolError names what to install. */
export async function findBuildTools(
  host: Pick<Host, "access">,
  dirs = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"],
): Promise<Record<string, string>> {
  const path = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...dirs];
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(BUILD_TOOLS)) {
    const hit = await Promise.any(
      path.map(async (p) => {
        if (!(await host.access(join(p, tool), "exec"))) throw new Error("not here");
        return join(p, tool);
      }),
    ).catch(() => undefined);
    if (hit) found[tool] = hit;
    else missing.push(pkg);
  }
  if (missing.length)
    throw new ToolError(`building an image needs ${missing.join(", ")}, which is not installed`, {
      hint: `apt-get install ${missing.join(" ")}`,
    });
  return found;
}

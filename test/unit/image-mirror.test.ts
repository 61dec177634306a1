// Finding the Debian mirror for debootstrap in apt's sources, on files recorded from the build
// host (test/fixtures/apt/README.md), and the debootstrap argv.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  debootstrapArgv,
  loadAptMirror,
  parseDeb822Sources,
  parseOneLineSources,
  pickMirror,
} from "../../src/adapters/debootstrap.js";
import { IMAGE_PACKAGES } from "../../src/core/image-recipe.js";
import { FIXTURES } from "./image-fixtures.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

const fixture = (name: string) => readFile(join(FIXTURES, name), "utf8");
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function aptDir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "image-apt-"));
  dirs.push(d);
  await mkdir(join(d, "sources.list.d"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

describe("apt sources parsers on recorded files", () => {
  it("reads both stanzas of the host's debian.sources, comments and all", async () => {
    const s = parseDeb822Sources(await fixture("debian.sources"));
    expect(s).toHaveLength(2);
    expect(s[0]).toEqual({
      types: ["deb"],
      uris: ["http://deb.debian.org/debian"],
      suites: ["bookworm", "bookworm-updates"],
      components: ["main"],
      enabled: true,
    });
    expect(s[1]?.uris).toEqual(["http://deb.debian.org/debian-security"]);
    expect(s[1]?.suites).toEqual(["bookworm-security"]);
  });

  it("reads a third-party deb822 and a one-line list", async () => {
    expect(parseDeb822Sources(await fixture("nodesource.sources"))[0]?.suites).toEqual(["nodistro"]);
    expect(parseOneLineSources(await fixture("google-cloud-sdk.list"))).toEqual([
      {
        types: ["deb"],
        uris: ["https://packages.cloud.google.com/apt"],
        suites: ["cloud-sdk-bookworm"],
        components: ["main"],
        enabled: true,
      },
    ]);
  });

  it("handles options in brackets, comments, deb-src and Enabled: no", () => {
    const one = parseOneLineSources(
      "# c\ndeb-src http://x/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main contrib # tail\n",
    );
    expect(one.map((s) => s.types[0])).toEqual(["deb-src", "deb"]);
    expect(pickMirror(one, "bookworm")).toBe("http://m.example/debian");
    const off = parseDeb822Sources(
      "Types: deb\nURIs: http://off/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n",
    );
    expect(off[0]?.enabled).toBe(false);
    expect(pickMirror(off, "bookworm")).toBeUndefined();
  });
});

describe("pickMirror", () => {
  it("picks the Debian main mirror, not security, updates or third-party", async () => {
    const all = [
      ...parseDeb822Sources(await fixture("nodesource.sources")),
      ...parseOneLineSources(await fixture("google-cloud-sdk.list")),
      ...parseDeb822Sources(await fixture("debian.sources")),
    ];
    expect(pickMirror(all, "bookworm")).toBe("http://deb.debian.org/debian");
    expect(pickMirror(all, "trixie")).toBeUndefined();
  });
});

describe("loadAptMirror on a real apt dir", () => {
  it("reads sources.list.d/*.sources and ignores disabled-by-rename files", async () => {
    const d = await aptDir({});
    await copyFile(join(FIXTURES, "debian.sources"), join(d, "sources.list.d", "debian.sources"));
    await copyFile(join(FIXTURES, "google-cloud-sdk.list"), join(d, "sources.list.d", "a.list"));
    expect(await loadAptMirror(host, "bookworm", d)).toBe("http://deb.debian.org/debian");
  });

  it("prefers sources.list (apt's order) and is undefined with only third-party sources", async () => {
    const d = await aptDir({ "sources.list": "deb http://local.mirror/debian bookworm main\n" });
    await copyFile(join(FIXTURES, "debian.sources"), join(d, "sources.list.d", "debian.sources"));
    expect(await loadAptMirror(host, "bookworm", d)).toBe("http://local.mirror/debian");
    const third = await aptDir({});
    await copyFile(join(FIXTURES, "nodesource.sources"), join(third, "sources.list.d", "nodesource.sources"));
    await copyFile(
      join(FIXTURES, "debian.sources"),
      join(third, "sources.list.d", "debian.sources.disabled"),
    );
    expect(await loadAptMirror(host, "bookworm", third)).toBeUndefined();
    expect(await loadAptMirror(host, "bookworm", join(third, "missing"))).toBeUndefined();
  });
});

describe("debootstrapArgv", () => {
  it("is variant, include list, suite, dir, mirror", () => {
    const argv = debootstrapArgv({
      suite: "bookworm",
      variant: "minbase",
      packages: IMAGE_PACKAGES,
      dir: "/d/root",
      mirror: "http://m/debian",
    });
    expect(argv).toEqual([
      "--variant=minbase",
      `--include=${IMAGE_PACKAGES.join(",")}`,
      "bookworm",
      "/d/root",
      "http://m/debian",
    ]);
    expect(argv[1]).toContain("python3-cffi-backend");
  });
});

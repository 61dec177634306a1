// Every golden file and a batch of generated documents go through libvirt's and
// cloud-init's own validators: virt-xml-validate (libvirt-clients) and cloud-init schema.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildUserData } from "../../src/core/cloud-init.js";
import { buildDomainXml } from "../../src/core/domain-xml.js";
import { findXmlIllegal } from "../../src/core/xml-text.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { randomText, rng } from "../helpers/random-text.js";
import { baseDomain, baseUserData } from "../helpers/specs.js";
import { assertTools, describeWithTools } from "../helpers/tools.js";
import { run, validateDomainXml, validateUserData } from "../helpers/validators.js";

const TOOLS = ["virt-xml-validate", "xmllint", "cloud-init"];

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
    }),
  );
}

describeWithTools(TOOLS)("schema tools accept what the builders produce", () => {
  let dir: string;
  beforeAll(() => {
    assertTools(TOOLS);
    dir = mkdtempSync(join(tmpdir(), "agentshare-schema-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("virt-xml-validate accepts every golden domain XML", async () => {
    const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".xml"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    await pool(
      files.map((f) => join(GOLDEN_DIR, f)),
      2,
      validateDomainXml,
    );
  });

  it("cloud-init schema accepts every golden user-data", async () => {
    const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".user-data"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    await pool(
      files.map((f) => join(GOLDEN_DIR, f)),
      2,
      validateUserData,
    );
  });

  it("virt-xml-validate accepts 150 domains with random user text", async () => {
    const next = rng(1234);
    const files: string[] = [];
    while (files.length < 150) {
      // paths are single lines (libvirt's schema: `.+`); the CLI rejects a --root with a line break
      const [description, command, dir2] = [
        randomText(next),
        randomText(next),
        `/srv/${randomText(next, 4).replace(/[\r\n\u0085\u2028\u2029]/g, "_")}`,
      ];
      if ([description, command, dir2].some((s) => findXmlIllegal(s))) continue;
      const xml = buildDomainXml({
        ...baseDomain,
        description,
        inboxDir: dir2,
        metadata: { ...baseDomain.metadata, command },
      });
      const f = join(dir, `fuzz-${files.length}.xml`);
      writeFileSync(f, xml);
      files.push(f);
    }
    await pool(files, 2, validateDomainXml);
  });

  it("cloud-init schema accepts 20 user-data documents with random commands and key comments", async () => {
    const next = rng(99);
    const files: string[] = [];
    while (files.length < 20) {
      const command = randomText(next, 20);
      const comment = randomText(next).replace(/[\r\n]/g, " ");
      if (findXmlIllegal(command) || findXmlIllegal(comment)) continue;
      const f = join(dir, `fuzz-${files.length}.user-data`);
      writeFileSync(
        f,
        buildUserData({ ...baseUserData, command, sshKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ${comment}`] }),
      );
      files.push(f);
    }
    await pool(files, 2, validateUserData);
  });

  it("virt-xml-validate accepts <tb-cache> under qemu and the balloon's freePageReporting", async () => {
    const f = join(dir, "tcg.xml");
    const xml = buildDomainXml({
      ...baseDomain,
      domainType: "qemu",
      tcgCacheMiB: 64,
      freePageReporting: true,
    });
    expect(xml).toContain('<tb-cache unit="MiB">64</tb-cache>');
    expect(xml).toContain('<memballoon model="virtio" freePageReporting="on"/>');
    writeFileSync(f, xml);
    await validateDomainXml(f);
  });

  it("virt-xml-validate rejects a <tb-cache> without its number (the check can fail)", async () => {
    const f = join(dir, "tcg-broken.xml");
    const xml = buildDomainXml({ ...baseDomain, tcgCacheMiB: 64 }).replace(
      ">64</tb-cache>",
      ">lots</tb-cache>",
    );
    writeFileSync(f, xml);
    const r = await run("virt-xml-validate", [f, "domain"]).catch((e: { code: number }) => e);
    expect((r as { code?: number }).code).not.toBe(0);
  });

  it("virt-xml-validate rejects a broken domain (the check can fail)", async () => {
    const f = join(dir, "broken.xml");
    writeFileSync(
      f,
      buildDomainXml(baseDomain).replace("<memory", "<memroy").replace("</memory>", "</memroy>"),
    );
    const r = await run("virt-xml-validate", [f, "domain"]).catch((e: { code: number }) => e);
    expect((r as { code?: number }).code).not.toBe(0);
  });
});

// The console in a real browser: Debian's headless Chromium driven by playwright-core, against
// serve in-process and the real bundled guest health server on 127.0.0.1 (serve-harness.ts).
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Serving } from "../../src/server/serve.js";
import { cleanup, kill, ROOT, startServer, waitFor } from "./health-server-harness.js";
import { AGENT, makeFleet, serveFleet, type Fleet } from "./serve-harness.js";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, ".test-out", "screenshots");

let f: Fleet;
let serve: Serving;
let browser: BrowserContext;
let page: Page;
let profile: string;

/** The page's stdout lines joined: what the log view shows of stdout.log. */
const pageStdout = () =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll("#log .stdout"))
      .map((n) => n.textContent ?? "")
      .join(""),
  );

/** Waits until an element matching `css` contains `text` (as text). */
const waitForText = (css: string, text: string) =>
  page.waitForFunction(
    ([c, t]) =>
      Array.from(document.querySelectorAll(c as string)).some((n) => n.textContent?.includes(t as string)),
    [css, text],
    { timeout: 15_000 },
  );

const stdoutLog = () => readFile(join(f.runDir, "stdout.log"), "utf8");

/** Appends `n` numbered lines, `gapMs` apart, while `during` runs once half are written. */
async function writeLines(tag: string, n: number, during: () => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appendFile(join(f.runDir, "stdout.log"), `${tag} line ${i} ${"x".repeat(i % 17)}\n`);
    if (i === n / 2) await during();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the page shows exactly stdout.log (no less: nothing lost), then compares. */
async function expectPageEqualsLog(): Promise<void> {
  const want = await stdoutLog();
  await waitFor(async () => (await pageStdout()).length >= want.length, 20_000, "the page to catch up");
  expect(await pageStdout()).toBe(want);
}

beforeAll(async () => {
  f = await makeFleet();
  serve = await serveFleet(f);
  profile = join(f.dir, "chromium-profile");
  await mkdir(profile);
  await mkdir(SHOTS, { recursive: true });
  // a fresh profile (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage();
  page.on("dialog", (d) => void d.accept());
  await page.goto(serve.loginUrl ?? "");
  await page.waitForSelector(`#fleet a:text("${AGENT}")`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  if (f) {
    await kill(f.guest.proc);
    await cleanup(f.dir);
  }
});

describe("the console in Chromium", () => {
  it("logs in from the printed URL, drops the token from the address, lists the agent", async () => {
    expect(page.url()).not.toContain("token=");
    const cookies = await browser.cookies();
    const c = cookies.find((x) => x.name === "agentshare_session");
    expect(c?.httpOnly).toBe(true);
    expect(c?.sameSite).toBe("Strict");
    const row = await page.textContent(`#fleet tr:has(a:text("${AGENT}"))`);
    expect(row).toContain("run-20261201-000000");
    await page.screenshot({ path: join(SHOTS, "fleet.png") });
  });

  it("shows a line on the agent page soon after the guest writes it", async () => {
    await page.goto(`${serve.url}/#/agent/${AGENT}`);
    await page.waitForSelector("#log");
    await appendFile(join(f.runDir, "stdout.log"), "first line from the guest\n");
    await appendFile(join(f.runDir, "stderr.log"), "a warning on stderr\n");
    await waitForText("#log .stdout", "first line from the guest");
    await waitForText("#log .stderr", "a warning on stderr");
    await expectPageEqualsLog();
  });

  it("the page equals the log byte for byte across a SIGKILL and restart of the guest's server", async () => {
    const port = f.guest.port;
    await writeLines("guest-kill", 60, async () => {
      await kill(f.guest.proc);
      await appendFile(join(f.runDir, "stdout.log"), "written while the guest server was down\n");
      f.guest = await startServer(f.bundles, f.inbox, port);
    });
    await expectPageEqualsLog();
  });

  it("the page equals the log byte for byte across a restart of serve", async () => {
    const port = Number(new URL(serve.url).port);
    await writeLines("serve-restart", 60, async () => {
      await serve.close();
      await appendFile(join(f.runDir, "stdout.log"), "written while serve was down\n");
      serve = await serveFleet(f, port);
    });
    await expectPageEqualsLog();
    await page.screenshot({ path: join(SHOTS, "agent.png") });
  });

  it("runs no script from a log line or an output file name", async () => {
    const evil = "<img src=x onerror=window.__pwned=1>";
    await mkdir(join(f.runDir, "outputs"), { recursive: true });
    await writeFile(join(f.runDir, "outputs", `${evil}.txt`), "x");
    await writeFile(join(f.runDir, "outputs", "<script>window.__pwned=2<"), "y");
    await page.goto(`${serve.url}/#/agent/${AGENT}`);
    await appendFile(join(f.runDir, "stdout.log"), `${evil}\n<script>window.__pwned=3</script>\n`);
    await waitForText("#log .stdout", "<script>window.__pwned=3</script>");
    await page.click('#runs button:text("run-20261201-000000")');
    await waitForText("#files a", `outputs/${evil}.txt`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // the names are text, not elements: no img or script was made from them
    expect(await page.locator("#log img, #files img, #log script, #files script").count()).toBe(0);
    expect(await page.textContent("#files")).toContain("outputs/<script>window.__pwned=2<");
  });
});

// A health port the guest cannot bind: the real bundled health server says why in its error
// file, and the first-boot marker command from the real user-data (run here by sh, with the
// guest paths pointed at a temp dir) writes the failure marker instead of the ready marker.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildUserData } from "../../src/core/cloud-init.js";
import { HEALTH_ERROR_FILE } from "../../src/core/guest-units.js";
import { GUEST_INBOX } from "../../src/core/guest-paths.js";
import { baseUserData } from "../helpers/specs.js";
import {
  cleanup,
  kill,
  makeBundles,
  makeInbox,
  startServer,
  TOKEN,
  type Bundles,
} from "./health-server-harness.js";

let b: Bundles;
let inbox = "";
beforeAll(async () => {
  b = await makeBundles();
  ({ inbox } = await makeInbox(b.dir));
});
afterAll(() => cleanup(b.dir));

/** A plain TCP listener holding a port on 127.0.0.1, as sshd holds 22 in the guest. */
async function holdPort(): Promise<{ port: number; server: NetServer }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  return { port: typeof addr === "object" && addr ? addr.port : 0, server };
}

/** The last runcmd item of a real guest's user-data, with the guest's paths moved under the test dir. */
function markerScript(port: number, errorFile: string): string {
  const guest = { runWrapper: "#!/bin/sh\n", healthServer: "#!/usr/bin/env node\n" };
  const doc = load(buildUserData({ ...baseUserData, healthPort: port, guest })) as { runcmd: string[][] };
  const script = doc.runcmd.at(-1)?.[2] ?? "";
  expect(script).toContain(HEALTH_ERROR_FILE);
  return script.replaceAll(HEALTH_ERROR_FILE, errorFile).replaceAll(`${GUEST_INBOX}/`, `${inbox}/`);
}

describe("health port the guest cannot bind", () => {
  it("the health server exits 69 and writes why into --error-file", async () => {
    const held = await holdPort();
    try {
      const errorFile = join(b.dir, "listen-error-1");
      await writeFile(join(b.dir, "token"), `${TOKEN}\n`);
      const r = spawnSync(
        process.execPath,
        [b.server, "--inbox", inbox, "--host", "127.0.0.1", "--port", String(held.port)].concat([
          "--token-file",
          join(b.dir, "token"),
          "--error-file",
          errorFile,
        ]),
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(r.status).toBe(69);
      const why = await readFile(errorFile, "utf8");
      expect(why).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${held.port}: .*EADDRINUSE`));
      expect(r.stderr).toContain(why.trim());
    } finally {
      held.server.close();
    }
  });

  it("a server that does listen removes a stale error file", async () => {
    const errorFile = join(b.dir, "listen-error-2");
    await writeFile(errorFile, "stale\n");
    const srv = await startServer(b, inbox, 0, ["--error-file", errorFile]);
    try {
      expect(existsSync(errorFile)).toBe(false);
    } finally {
      await kill(srv.proc);
    }
  });

  it("the first-boot command writes the failure marker with the reason, not the ready marker", async () => {
    const held = await holdPort();
    const errorFile = join(b.dir, "listen-error-3");
    await writeFile(errorFile, `the health server cannot listen on 0.0.0.0:${held.port}: EADDRINUSE\n`);
    try {
      const t0 = Date.now();
      const r = spawnSync("sh", ["-c", markerScript(held.port, errorFile)], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000); // the error stood 3 s: no 20 s wait
      expect(await readFile(join(inbox, ".agentshare-failed"), "utf8")).toBe(
        `${baseUserData.instanceId}\nthe health server cannot listen on 0.0.0.0:${held.port}: EADDRINUSE\n`,
      );
      expect(existsSync(join(inbox, ".agentshare-ready"))).toBe(false);
    } finally {
      held.server.close();
    }
  }, 30_000);

  it("with the server answering (a transient error file meanwhile), it writes the ready marker", async () => {
    const errorFile = join(b.dir, "listen-error-4");
    const held = await holdPort();
    const port = held.port;
    await new Promise<void>((r) => held.server.close(() => r()));
    await writeFile(errorFile, "transient: the first start failed\n");
    const sh = spawn("sh", ["-c", markerScript(port, errorFile)], { stdio: "ignore" });
    const code = new Promise<number | null>((r) => sh.once("exit", r));
    await new Promise((r) => setTimeout(r, 1000)); // restarted within the 3 s the error may stand
    const srv = await startServer(b, inbox, port, ["--error-file", errorFile]);
    try {
      expect(await code).toBe(0);
      expect(await readFile(join(inbox, ".agentshare-ready"), "utf8")).toBe(`${baseUserData.instanceId}\n`);
    } finally {
      await kill(srv.proc);
    }
  }, 30_000);
});

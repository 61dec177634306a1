// The host's side of the failure marker: read beneath the rules for guest-written files, only
// for this instance id, the reason made one printable line.
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import { failureReported, waitForReady } from "../../src/ops/wait-ready.js";

const host = localHost(localRunner);

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentshare-wait-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it("reports the reason for this instance id only, as one printable line of at most 300 chars", async () => {
  const f = join(dir, ".agentshare-failed");
  await writeFile(f, `iid-a\n\x1b[31mcannot listen\x07 on :22\nsecond line\n${"x".repeat(500)}`);
  const why = await failureReported(host, f, "iid-a");
  expect(why).toMatch(/^\[31mcannot listen on :22 second line x+$/);
  expect(why?.length).toBe(300);
  expect(await failureReported(host, f, "iid-b")).toBeUndefined();
  await writeFile(f, "iid-a\n");
  expect(await failureReported(host, f, "iid-a")).toBe("no reason given");
});

it("ignores a symlinked failure marker (the guest could point it anywhere)", async () => {
  const target = join(dir, "elsewhere");
  await writeFile(target, "iid-a\nfrom a symlink\n");
  await symlink(target, join(dir, ".agentshare-failed"));
  expect(await failureReported(host, join(dir, ".agentshare-failed"), "iid-a")).toBeUndefined();
});

it("waitForReady stops at the first poll that sees the failure marker", async () => {
  const f = join(dir, ".agentshare-failed");
  await writeFile(f, "iid-a\nthe health server cannot listen on 0.0.0.0:8118: EADDRINUSE\n");
  const t0 = Date.now();
  await expect(
    waitForReady({
      host,
      marker: join(dir, ".agentshare-ready"),
      failedMarker: f,
      instanceId: "iid-a",
      timeoutMs: 60_000,
      pollMs: 10,
      isRunning: async () => true,
      consoleLog: join(dir, "console.log"),
    }),
  ).rejects.toThrow(
    "the guest reports it cannot get ready: the health server cannot listen on 0.0.0.0:8118: EADDRINUSE",
  );
  expect(Date.now() - t0).toBeLessThan(1000);
});

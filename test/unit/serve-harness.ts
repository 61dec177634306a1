// Shared by the serve tests: a temp host tree with one agent (serve-a1) whose state points at the
// real bundled guest health server on 127.0.0.1 (registered with serve's --endpoint, as a
// port-forwarded agent would be), the console bundled into a temp dir, and serve in-process.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentshare } from "../../src/api/agentshare.js";
import { startServe, type Serving } from "../../src/server/serve.js";
import { buildConsole } from "../../scripts/build-console.mjs";
import { build } from "esbuild";
import { newRun, ROOT, startServer, TOKEN, type Bundles, type Server } from "./health-server-harness.js";

export const AGENT = "serve-a1";

export interface Fleet {
  dir: string;
  root: string;
  stateDir: string;
  inbox: string;
  runDir: string;
  bundles: Bundles;
  consoleDir: string;
  guest: Server;
}

/** The guest health server bundled as scripts/build.mjs does (the attach CLI is not needed here). */
async function guestBundle(dir: string): Promise<Bundles> {
  const server = join(dir, "health-server.mjs");
  await build({
    entryPoints: [join(ROOT, "src/guest/health-server.ts")],
    outfile: server,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "esm",
    logLevel: "warning",
  });
  return { dir, server, cli: [] };
}

/** The tree, the agent's state (spec.json, token) and its inbox with one run; the guest server started. */
export async function makeFleet(): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), "serve-test-"));
  const root = join(dir, "root");
  const stateDir = join(dir, "state");
  const agentDir = join(stateDir, "agents", AGENT);
  await mkdir(join(root, "staging"), { recursive: true });
  await mkdir(join(root, "global", "tools"), { recursive: true });
  await mkdir(agentDir, { recursive: true, mode: 0o700 });
  const spec = {
    name: AGENT,
    instanceId: "i-serve-test",
    createdAt: "2026-12-01T00:00:00.000Z",
    domainType: "qemu",
    healthPort: 8118,
    profile: "default",
  };
  await writeFile(join(agentDir, "spec.json"), JSON.stringify(spec));
  await writeFile(join(agentDir, "token"), `${TOKEN}\n`, { mode: 0o600 });
  const inbox = join(root, `${AGENT}-inbox`);
  await mkdir(join(inbox, "runs"), { recursive: true });
  const runDir = await newRun(inbox, "run-20261201-000000");
  await writeFile(join(runDir, "stdout.log"), "");
  await writeFile(join(runDir, "stderr.log"), "");
  const bundles = await guestBundle(dir);
  const consoleDir = join(dir, "console");
  await buildConsole(consoleDir);
  const guest = await startServer(bundles, inbox);
  return { dir, root, stateDir, inbox, runDir, bundles, consoleDir, guest };
}

/** serve for the fleet on 127.0.0.1 (`port` 0 for a free one). */
export async function serveFleet(f: Fleet, port = 0, guestUrl = f.guest.url): Promise<Serving> {
  const api = createAgentshare({ root: f.root, stateDir: f.stateDir });
  return startServe({
    api,
    listen: { host: "127.0.0.1", port },
    endpoints: { [AGENT]: guestUrl },
    consoleDir: f.consoleDir,
  });
}

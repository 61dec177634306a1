// serve's HTTP API with real HTTP on 127.0.0.1: credentials on every route, Origin on the ones
// that change anything, downloads that never leave the inbox, the token file.
import { lstat, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Serving } from "../../src/server/serve.js";
import { cleanup, kill } from "./health-server-harness.js";
import { AGENT, makeFleet, serveFleet, type Fleet } from "./serve-harness.js";

let f: Fleet;
let serve: Serving;
let token: string;
const RUN = "run-20261201-000000";

const ROUTES: [string, string][] = [
  ["GET", "/api/agents"],
  ["GET", `/api/agents/${AGENT}`],
  ["GET", `/api/agents/${AGENT}/runs`],
  ["GET", `/api/agents/${AGENT}/runs/${RUN}/files`],
  ["GET", `/api/agents/${AGENT}/runs/${RUN}/files/stdout.log`],
  ["GET", `/api/agents/${AGENT}/logs`],
  ["GET", `/api/agents/${AGENT}/follow`],
  ["GET", "/api/staging"],
  ["GET", "/api/audit"],
  ["POST", "/api/promote"],
  ["POST", "/api/prune"],
  ["POST", `/api/agents/${AGENT}/start`],
  ["POST", `/api/agents/${AGENT}/stop`],
  ["POST", `/api/agents/${AGENT}/restart`],
  ["POST", `/api/agents/${AGENT}/destroy`],
  ["DELETE", "/api/session"],
  ["GET", "/api/no-such-route"],
];

const promoted = () => join(f.root, "global", "tools", "tool.sh");
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  f = await makeFleet();
  serve = await serveFleet(f);
  token = (await readFile(join(f.stateDir, "serve-token"), "utf8")).trim();
  await writeFile(join(f.root, "staging", "tool.sh"), "#!/bin/sh\necho hi\n");
});

afterAll(async () => {
  await serve?.close();
  if (f) {
    await kill(f.guest.proc);
    await cleanup(f.dir);
  }
});

describe("serve's API", () => {
  it("keeps its token 0600 in the state dir and prints it once as a login URL", async () => {
    expect((await stat(join(f.stateDir, "serve-token"))).mode & 0o777).toBe(0o600);
    expect(serve.loginUrl).toBe(`${serve.url}/#token=${token}`);
    const again = await serveFleet(f);
    expect(again.loginUrl).toBeUndefined();
    await again.close();
  });

  it("answers 401 on every route without credentials or with wrong ones, and does nothing", async () => {
    const wrong: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${"0".repeat(64)}` },
      { cookie: "agentshare_session=forged" },
    ];
    for (const headers of wrong)
      for (const [method, path] of ROUTES) {
        const body = method === "POST" ? JSON.stringify({ file: "tool.sh" }) : undefined;
        const r = await fetch(serve.url + path, { method, headers: { ...headers, origin: serve.url }, body });
        expect(r.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        await r.body?.cancel();
      }
    expect(await exists(promoted())).toBe(false);
  });

  it("refuses a cross-origin POST even with a valid cookie, and a cookie POST without Origin", async () => {
    const login = await fetch(`${serve.url}/api/session`, {
      method: "POST",
      headers: { origin: serve.url, "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(login.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);
    const post = (headers: Record<string, string>) =>
      fetch(`${serve.url}/api/promote`, {
        method: "POST",
        headers: { cookie, ...headers },
        body: '{"file":"tool.sh"}',
      });
    expect((await post({ origin: "http://evil.example" })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect(await exists(promoted())).toBe(false);
    // the same request from serve's own origin does it: the refusals above were not for another reason
    const ok = await post({ origin: serve.url });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
    expect(await exists(promoted())).toBe(true);
  });

  it("downloads a run's file but never through a guest-planted symlink", async () => {
    const auth = { authorization: `Bearer ${token}` };
    await writeFile(join(f.runDir, "stdout.log"), "log bytes\n");
    const ok = await fetch(`${serve.url}/api/agents/${AGENT}/runs/${RUN}/files/stdout.log`, {
      headers: auth,
    });
    expect(await ok.text()).toBe("log bytes\n");
    expect(ok.headers.get("content-disposition")).toMatch(/^attachment;/);
    await writeFile(join(f.dir, "secret"), "host secret\n");
    await mkdir(join(f.runDir, "outputs"), { recursive: true });
    await symlink(join(f.dir, "secret"), join(f.runDir, "outputs", "leak"));
    await symlink(f.dir, join(f.runDir, "outputs", "dirlink"));
    for (const p of [
      "outputs/leak",
      "outputs/dirlink/secret",
      "../../../secret",
      "outputs/%2e%2e/%2e%2e/x",
    ]) {
      const r = await fetch(`${serve.url}/api/agents/${AGENT}/runs/${RUN}/files/${p}`, { headers: auth });
      const text = await r.text();
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain("host secret");
    }
    const list = (await (
      await fetch(`${serve.url}/api/agents/${AGENT}/runs/${RUN}/files`, { headers: auth })
    ).json()) as { path: string }[];
    expect(list.map((x) => x.path)).not.toContain("outputs/leak");
  });
});

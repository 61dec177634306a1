// The health server's HTTP surface, against the real bundled server: auth, routing (raw
// paths, no normalisation), /health, /runs, and refusing symlinks out of the inbox.
import { connect } from "node:net";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  cleanup,
  kill,
  makeBundles,
  makeInbox,
  newRun,
  startServer,
  TOKEN,
  type Bundles,
  type Server,
} from "./health-server-harness.js";

let b: Bundles;
let srv: Server;
let inbox: string;
let runDir: string;
const AUTH = `Bearer ${TOKEN}`;

beforeAll(async () => {
  b = await makeBundles();
  ({ inbox, runDir } = await makeInbox(b.dir, "run-20260101-000000-2"));
  srv = await startServer(b, inbox, 0, ["--ping-ms", "200"]);
});
afterAll(async () => {
  await kill(srv.proc);
  await cleanup(b.dir);
});

/** Sends one raw HTTP/1.1 request (the path exactly as given) and returns status, headers, body. */
function raw(method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
    const sock = connect(srv.port, "127.0.0.1");
    let text = "";
    sock.on("data", (d) => (text += d.toString()));
    sock.on("error", reject);
    sock.on("end", () => {
      const [head = "", body = ""] = text.split("\r\n\r\n", 2);
      resolve({ status: Number(head.split(" ")[1]), head, body });
    });
    const h = Object.entries({ Host: "x", Connection: "close", ...headers }).map(
      ([k, v]) => `${k}: ${v}\r\n`,
    );
    sock.write(`${method} ${path} HTTP/1.1\r\n${h.join("")}\r\n`);
  });
}

const get = async (path: string, auth = AUTH) => {
  const r = await fetch(`${srv.url}${path}`, { headers: { Authorization: auth } });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe("auth and routing", () => {
  test("GET /healthz answers without a token", async () => {
    const r = await raw("GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.body).toContain("ok");
  });

  test.each(["/health", "/runs", "/stream/stdout", "/nope"])("401 JSON without a token: %s", async (path) => {
    const r = await raw("GET", path);
    expect(r.status).toBe(401);
    expect(r.head).toMatch(/WWW-Authenticate: Bearer/i);
    expect(JSON.parse(r.body)).toEqual({ error: "missing or wrong bearer token" });
  });

  test.each([`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, "Bearer", TOKEN, `Basic ${TOKEN}`])(
    "401 with a wrong token: %s",
    async (auth) => {
      expect((await raw("GET", "/health", { Authorization: auth })).status).toBe(401);
    },
  );

  test.each([
    "/stream/../../etc/passwd",
    "/stream/%2e%2e/%2e%2e/etc/passwd",
    "/stream/stdout/",
    "/stream/",
    "//health",
    "/runs/../health",
  ])("404 JSON for %s (raw path)", async (path) => {
    const r = await raw("GET", path, { Authorization: AUTH });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error).toMatch(/no such endpoint/);
    expect(r.body).not.toContain("root:");
  });

  test.each([
    ["POST", "/health"],
    ["DELETE", "/stream/stdout"],
    ["PUT", "/runs"],
  ])("405 JSON for %s %s", async (method, path) => {
    const r = await raw(method, path, { Authorization: AUTH, "Content-Length": "0" });
    expect(r.status).toBe(405);
    expect(r.head).toMatch(/Allow: GET/);
    expect(JSON.parse(r.body).error).toContain(method);
  });

  test("400 for a bad Last-Event-ID or query, naming the problem", async () => {
    const bad = await raw("GET", "/stream/stdout", { Authorization: AUTH, "Last-Event-ID": "../../x:1.1" });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("Last-Event-ID");
    const two = await raw("GET", "/stream/stdout", {
      Authorization: AUTH,
      "Last-Event-ID": "run-20260101-000000:1.1:2.2",
    });
    expect(two.status).toBe(400);
    expect((await raw("GET", "/stream/stdout?from=middle", { Authorization: AUTH })).body).toContain(
      "from must be",
    );
    expect((await raw("GET", "/stream/stdout?tail=-1", { Authorization: AUTH })).body).toContain(
      "tail must be",
    );
  });

  test("stream headers", async () => {
    const ac = new AbortController();
    const r = await fetch(`${srv.url}/stream/agent`, { headers: { Authorization: AUTH }, signal: ac.signal });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(r.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(r.headers.get("x-accel-buffering")).toBe("no");
    const reader = r.body!.getReader();
    let text = "";
    while (!text.includes("event: ping")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^event: hello\n/);
    ac.abort();
  });
});

describe("/health and /runs", () => {
  test("/health reports agent, run, mounts and usage", async () => {
    const { status, body } = await get("/health");
    expect(status).toBe(200);
    expect(body.agent).toBe("a1");
    expect(body.run).toBe("run-20260101-000000-2");
    const mounts = body.mounts as Record<string, { mounted: boolean; expected: string }>;
    expect(mounts.global?.expected).toBe("ro");
    expect(mounts.inbox).toMatchObject({ mounted: false, expected: "rw" }); // a temp dir is no mount point
    const usage = body.usage as Record<string, { totalBytes: number; freeBytes: number } | null>;
    expect(usage.tmp?.totalBytes).toBeGreaterThan(0);
    expect(usage.inbox?.freeBytes).toBeGreaterThan(0);
    expect(body.ok).toBe(false);
  });

  test("/runs lists runs newest first with a bounded metrics summary", async () => {
    const older = await newRun(inbox, "run-20251231-235959");
    await writeFile(
      join(older, "metrics.json"),
      JSON.stringify({ exitCode: 3, start: "s", nested: { x: 1 }, long: "y".repeat(999) }),
    );
    const big = await newRun(inbox, "run-20251231-000000");
    await writeFile(join(big, "metrics.json"), `{"a":"${"z".repeat(70_000)}"}`);
    const linked = await newRun(inbox, "run-20251230-000000");
    await symlink("/etc/passwd", join(linked, "metrics.json"));
    await newRun(inbox, "run-20260101-000000-2"); // back to the newest
    await mkdir(join(inbox, "runs", "not-a-run"));
    const { body } = await get("/runs");
    const runs = body.runs as { run: string; current: boolean; metrics: unknown }[];
    expect(runs.map((r) => r.run)).toEqual([
      "run-20260101-000000-2",
      "run-20251231-235959",
      "run-20251231-000000",
      "run-20251230-000000",
    ]);
    expect(runs[0]?.current).toBe(true);
    expect(runs[1]?.metrics).toEqual({ exitCode: 3, start: "s" });
    expect(runs[2]?.metrics).toBeNull();
    expect(runs[3]?.metrics).toBeNull();
  });

  test("`current` pointing out of the inbox is not followed", async () => {
    for (const target of ["/etc", "../../etc", "runs/../../../etc", "runs/not-a-run"]) {
      await rm(join(inbox, "current"));
      await symlink(target, join(inbox, "current"));
      expect((await get("/health")).body.run).toBeNull();
    }
    await mkdir(join(b.dir, "outside"), { recursive: true });
    await symlink(join(b.dir, "outside"), join(inbox, "runs", "run-20300101-000000"));
    await rm(join(inbox, "current"));
    await symlink("runs/run-20300101-000000", join(inbox, "current"));
    expect((await get("/health")).body.run).toBeNull(); // the run dir itself is a symlink
    await newRun(inbox, "run-20260101-000000-2");
    expect((await get("/health")).body.run).toBe("run-20260101-000000-2");
    expect(runDir).toContain("run-20260101-000000-2");
  });
});

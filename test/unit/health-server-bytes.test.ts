// GET /bytes/<stream> (bulk catch-up) on the real bundled server: the plain body from a
// position with the id of its first byte, and 204 for everything the SSE stream must report.
import { randomBytes } from "node:crypto";
import { rename, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { advanceId, BULK_ID_HEADER, decodeId } from "../../src/core/sse.js";
import {
  cleanup,
  kill,
  makeBundles,
  makeInbox,
  startServer,
  TOKEN,
  type Bundles,
  type Server,
} from "./health-server-harness.js";

const RUN = "run-20260101-000000";
let b: Bundles;
let srv: Server;
let log: string;
beforeAll(async () => {
  b = await makeBundles();
  const { inbox, runDir } = await makeInbox(b.dir, RUN);
  log = join(runDir, "stdout.log");
  srv = await startServer(b, inbox);
});
afterAll(async () => {
  await kill(srv.proc);
  await cleanup(b.dir);
});

const bytes = (srv: Server, query: string, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}/bytes/stdout${query}`, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });

/** Lines of random hex, then a partial line. */
const logText = (n: number) => Buffer.from(`${randomBytes(n / 2).toString("hex")}\n`.repeat(4) + "partial");

test("/bytes: the plain body from a position, 204 when not plain or too little, 401, 400", async () => {
  expect((await fetch(`${srv.url}/bytes/stdout`)).status).toBe(401);
  expect((await bytes(srv, "")).status).toBe(204); // no file yet
  const text = logText(1000);
  await writeFile(log, text);
  let r = await bytes(srv, "?min=1");
  const first = decodeId(r.headers.get(BULK_ID_HEADER) ?? "");
  expect(first?.pos[0]?.off).toBe(0);
  expect(Buffer.from(await r.arrayBuffer()).equals(text)).toBe(true);
  expect((await bytes(srv, `?min=${text.length + 1}`)).status).toBe(204);
  const mid = advanceId(first!, 1234);
  r = await bytes(srv, "?min=1", { "Last-Event-ID": mid });
  expect(r.headers.get(BULK_ID_HEADER)).toBe(mid);
  expect(Buffer.from(await r.arrayBuffer()).equals(text.subarray(1234))).toBe(true);
  expect((await bytes(srv, "?min=1&tail=1")).headers.get(BULK_ID_HEADER)).toBe(advanceId(first!, 4 * 1001));
  await truncate(log, 1000); // shorter than the id's offset: SSE reports the truncation
  expect((await bytes(srv, "?min=1", { "Last-Event-ID": mid })).status).toBe(204);
  await writeFile(`${log}.new`, text);
  await rename(`${log}.new`, log); // another inode at the path: SSE reports the rotation
  expect((await bytes(srv, "?min=1", { "Last-Event-ID": advanceId(first!, 10) })).status).toBe(204);
  expect((await bytes(srv, "?min=x")).status).toBe(400);
  expect((await bytes(srv, "", { "Last-Event-ID": `${RUN}:1.1:2.2` })).status).toBe(400);
});

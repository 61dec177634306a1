// `attach --no-follow` against the real bundled server when there is no current run to send:
// `current` missing, pointing outside runs/, or runs/ a symlink. The server must send `end`
// (exit 0 at once), not leave the client to give up on its own (exit 69 after its idle period).
import { mkdir, mkdtemp, rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  cleanup,
  kill,
  makeBundles,
  makeInbox,
  startAttach,
  startServer,
  type Bundles,
} from "./health-server-harness.js";

let b: Bundles;
beforeAll(async () => {
  b = await makeBundles();
});
afterAll(() => cleanup(b.dir));

const RUN = "run-20260101-000000";

const layouts: [string, (inbox: string) => Promise<void>][] = [
  ["current is missing", (inbox) => rm(join(inbox, "current"))],
  [
    "current points outside the inbox",
    async (inbox) => {
      const outside = await mkdtemp(join(b.dir, "outside-"));
      await rm(join(inbox, "current"));
      await symlink(outside, join(inbox, "current"));
    },
  ],
  [
    "runs/ is a symlink",
    async (inbox) => {
      const elsewhere = await mkdtemp(join(b.dir, "runs-"));
      await rename(join(inbox, "runs"), join(elsewhere, "runs"));
      await symlink(join(elsewhere, "runs"), join(inbox, "runs"));
      await mkdir(join(elsewhere, "runs", RUN), { recursive: true });
    },
  ],
];

test.each(layouts)("%s: the server ends the stream, attach exits 0", async (_what, arrange) => {
  const { inbox } = await makeInbox(b.dir, RUN);
  await arrange(inbox);
  const srv = await startServer(b, inbox);
  try {
    for (const stream of ["stdout", "-c"]) {
      const client = startAttach(b, srv.url, ["a1", stream, "--no-follow"]);
      let err = "";
      client.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => client.on("exit", r));
      expect({ stream, code, err }).toEqual({ stream, code: 0, err: "" });
    }
  } finally {
    await kill(srv.proc);
  }
});

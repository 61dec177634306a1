// A first connection positioned by --tail while both files are being written: the server must
// position every cursor before it reads any (a watch event during positioning once made it read a
// file from byte 0 while its offset said the tail: duplicated lines and a bogus truncate).
import type { ChildProcess } from "node:child_process";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  cleanup,
  collect,
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

interface Ev {
  event: string;
  stream?: string;
  text?: string;
  base64?: string;
}

test("--tail on a combined stream being written: each stream starts at its tail, nothing twice", async () => {
  const { inbox, runDir } = await makeInbox(b.dir);
  const files = { stdout: join(runDir, "stdout.log"), stderr: join(runDir, "stderr.log") };
  const line = (s: string, i: number) => `${s} line ${String(i).padStart(6, "0")}\n`;
  let n = 0;
  await writeFile(files.stdout, Array.from({ length: 500 }, (_, i) => line("out", i)).join(""));
  await writeFile(files.stderr, Array.from({ length: 500 }, (_, i) => line("err", i)).join(""));
  n = 500;
  const srv = await startServer(b, inbox, 0, ["--flush-ms", "20"]);
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await appendFile(files.stdout, line("out", n));
      await appendFile(files.stderr, line("err", n));
      n++;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const procs: ChildProcess[] = [];
  try {
    for (let trial = 0; trial < 12; trial++) {
      const p = startAttach(b, srv.url, ["--json", "-c", "a1", "--tail", "2", "--no-follow"]);
      procs.push(p);
      const out = collect(p);
      const code = await new Promise<number | null>((r) => p.on("exit", r));
      expect(code).toBe(0);
      const evs = out
        .bytes()
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Ev);
      expect(evs.map((e) => e.event)).not.toContain("truncate");
      for (const s of ["stdout", "stderr"] as const) {
        const text = evs
          .filter((e) => e.event === "data" && e.stream === s)
          .map((e) => e.text ?? Buffer.from(e.base64 ?? "", "base64").toString("utf8"))
          .join("");
        const got = text.split("\n").filter(Boolean);
        const file = (await readFile(files[s], "utf8")).split("\n").filter(Boolean);
        // a contiguous run of the file's lines, starting near its end (2 lines + what was written meanwhile)
        const at = file.indexOf(got[0] ?? "missing");
        expect(at, `${s}: first line ${got[0]}`).toBeGreaterThanOrEqual(498);
        expect(got).toEqual(file.slice(at, at + got.length));
      }
    }
  } finally {
    writing = false;
    await writer;
    for (const p of procs) await kill(p);
    await kill(srv.proc);
  }
}, 60_000);

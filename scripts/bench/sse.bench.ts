// SSE log streaming benchmarks, each against a baseline run side by side on this machine:
//   1. throughput of one attach client on a large log   vs  `nc -N < file` → `nc -l` over loopback
//   2. write → client latency at 1,000 lines/s           vs  `tail -F` piped to the same process
//   3. 1,000 idle clients: server RSS per client, fan-out vs  a bare Node http server holding
//      the same 1,000 connections and writing the same line to each
// Size of (1): SSE_BENCH_MB (default 1024). Run: npx tsx scripts/bench/sse.bench.ts
import { spawn } from "node:child_process";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { attach } from "../../src/ops/attach.js";
import {
  kill,
  makeBundles,
  makeInbox,
  startServer,
  TOKEN,
  type Bundles,
} from "../../test/unit/health-server-harness.js";
import { runFanout } from "./sse-fanout.js";

const MB = Number(process.env.SSE_BENCH_MB ?? 1024);

function timed(cmd: string, args: string[], opts: { stdout?: "ignore" | "inherit" } = {}): Promise<number> {
  const t0 = performance.now();
  const p = spawn(cmd, args, { stdio: ["ignore", opts.stdout ?? "ignore", "inherit"] });
  return new Promise((resolve, reject) =>
    p.on("exit", (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} exited ${code}`)),
    ),
  );
}

async function writeBigLog(path: string, mb: number): Promise<void> {
  const fh = await open(path, "w");
  const lines: string[] = [];
  for (let i = 0; lines.join("").length < 1024 * 1024 - 200; i++)
    lines.push(`${i} ${"log text é ".repeat(i % 12)}\n`);
  const block = Buffer.alloc(1024 * 1024, " ");
  block.write(lines.join(""));
  block[block.length - 1] = 0x0a;
  for (let i = 0; i < mb; i++) await fh.write(block);
  await fh.close();
}

async function throughput(b: Bundles): Promise<void> {
  const { inbox, runDir } = await makeInbox(b.dir);
  const log = join(runDir, "stdout.log");
  await writeBigLog(log, MB);
  const srv = await startServer(b, inbox);
  const tokenFile = join(b.dir, "token");
  const ours = await timed(process.execPath, [
    ...b.cli,
    "attach",
    "--url",
    srv.url,
    "--token-file",
    tokenFile,
    "a1",
    "--no-follow",
  ]);
  await kill(srv.proc);
  const port = srv.port + 1;
  const rx = spawn("nc", ["-l", "127.0.0.1", String(port)], { stdio: ["ignore", "ignore", "inherit"] });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const tx = spawn("sh", ["-c", `cat '${log}' | nc -N 127.0.0.1 ${port}`], { stdio: "inherit" });
  await new Promise((r) => rx.on("exit", r));
  const base = performance.now() - t0;
  await kill(tx);
  const mbps = (ms: number) => (MB / (ms / 1000)).toFixed(0);
  console.log(
    `throughput ${MB} MiB: attach ${mbps(ours)} MiB/s (${ours.toFixed(0)} ms), cat|nc ${mbps(base)} MiB/s (${base.toFixed(0)} ms), ratio ${(base / ours).toFixed(2)}x (target ≥ 0.5)`,
  );
  await rm(log);
}

// Writes 1,000 lines/s from a child process for `seconds` (catching up when a timer fires late),
// each line carrying its write time.
const WRITER = `const fs=require("node:fs");const fd=fs.openSync(process.argv[1],"a");const secs=Number(process.argv[2]);
let n=0;const t0=Date.now();const now=()=>(performance.timeOrigin+performance.now()).toFixed(3);
const t=setInterval(()=>{const due=Math.min(secs*1000,Date.now()-t0);while(n<due)fs.writeSync(fd,"t "+now()+" "+(n++)+"\\n");
if(n>=secs*1000){clearInterval(t);fs.closeSync(fd);}},1);`;

function percentiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN).toFixed(2);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (n=${s.length})`;
}

/** Latency of each line: now minus the writer's timestamp in it. */
function lineLatencies(text: string, into: number[]): void {
  for (const m of text.matchAll(/^t (\d+\.\d+) /gm))
    into.push(performance.timeOrigin + performance.now() - Number(m[1]));
}

async function latency(b: Bundles): Promise<void> {
  const { inbox, runDir } = await makeInbox(b.dir);
  const log = join(runDir, "stdout.log");
  await (await open(log, "w")).close();
  const srv = await startServer(b, inbox);
  const ours: number[] = [];
  const ac = new AbortController();
  let partial = "";
  const done = attach({
    target: { url: srv.url, token: TOKEN },
    stream: "stdout",
    from: "end",
    follow: true,
    signal: ac.signal,
    onEvent: (ev) => {
      if (ev.type !== "data") return;
      partial += Buffer.from(ev.bytes).toString();
      const cut = partial.lastIndexOf("\n") + 1;
      lineLatencies(partial.slice(0, cut), ours);
      partial = partial.slice(cut);
    },
  });
  const base: number[] = [];
  const tail = spawn("tail", ["-F", "-n", "0", log], { stdio: ["ignore", "pipe", "ignore"] });
  tail.stdout.setEncoding("utf8");
  let tp = "";
  tail.stdout.on("data", (d: string) => {
    tp += d;
    const cut = tp.lastIndexOf("\n") + 1;
    lineLatencies(tp.slice(0, cut), base);
    tp = tp.slice(cut);
  });
  await new Promise((r) => setTimeout(r, 500));
  await timed(process.execPath, ["-e", WRITER, log, "5"], { stdout: "inherit" });
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  await done;
  await kill(tail);
  await kill(srv.proc);
  console.log(`latency at 1000 lines/s: attach ${percentiles(ours)}; tail -F ${percentiles(base)}`);
}

const b = await makeBundles();
try {
  if (!process.env.SSE_BENCH_SKIP_THROUGHPUT) await throughput(b);
  await latency(b);
  if (!process.env.SSE_BENCH_SKIP_FANOUT) await runFanout(b, await readFile(join(b.dir, "token"), "utf8"));
} finally {
  await rm(b.dir, { recursive: true, force: true });
}

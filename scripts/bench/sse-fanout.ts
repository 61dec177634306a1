// Part 3 of sse.bench.ts: 1,000 idle clients on one server — RSS per client and fan-out
// latency of one line to all of them — vs a bare Node http server with the same clients.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFile, readFile } from "node:fs/promises";
import { get, Agent, type ClientRequest } from "node:http";
import { join } from "node:path";
import { SseFrameParser } from "../../src/core/sse.js";
import { kill, makeInbox, startServer, type Bundles } from "../../test/unit/health-server-harness.js";

const CLIENTS = Number(process.env.SSE_BENCH_CLIENTS ?? 1000);

// The baseline: holds every GET open as an event stream and writes each stdin line to all.
const BARE = `const http=require("node:http");const rs=new Set();
const s=http.createServer((q,r)=>{r.writeHead(200,{"Content-Type":"text/event-stream"});r.write(":\\n\\n");rs.add(r);r.on("close",()=>rs.delete(r));});
s.listen(0,"127.0.0.1",()=>console.log("listening on http://127.0.0.1:"+s.address().port));
process.stdin.setEncoding("utf8");process.stdin.on("data",(l)=>{for(const r of rs)r.write("data: "+l.trim()+"\\n\\n");});`;

const now = () => performance.timeOrigin + performance.now();
const rssKiB = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens CLIENTS streams; every frame's data is scanned for "t <timestamp>" lines. */
async function openClients(url: string, token: string, latencies: number[]): Promise<() => void> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  let ready = 0;
  const reqs: ClientRequest[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const req = get(url, { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const p = new SseFrameParser();
      res.setEncoding("utf8");
      let counted = false;
      res.on("data", (d: string) => {
        if (!counted) {
          counted = true;
          ready++;
        }
        for (const f of p.feed(d))
          for (const m of f.data.matchAll(/t (\d+\.\d+)/g)) latencies.push(now() - Number(m[1]));
      });
    });
    req.on("error", () => undefined);
    reqs.push(req);
    if (i % 100 === 99) await sleep(50);
  }
  for (let t = 0; ready < CLIENTS && t < 300; t++) await sleep(100);
  if (ready < CLIENTS) throw new Error(`only ${ready} of ${CLIENTS} clients connected`);
  return () => {
    reqs.forEach((r) => r.destroy());
    agent.destroy();
  };
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN).toFixed(1);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (n=${s.length})`;
}

/** Runs the clients against one server; `send` makes it emit a timestamped line. */
async function measure(
  proc: ChildProcess,
  url: string,
  token: string,
  send: (line: string) => Promise<void>,
) {
  await sleep(500);
  const before = await rssKiB(proc.pid!);
  const lat: number[] = [];
  const close = await openClients(url, token, lat);
  await sleep(2000);
  const after = await rssKiB(proc.pid!);
  lat.length = 0;
  for (let i = 0; i < 5; i++) {
    await send(`t ${now().toFixed(3)} ${i}\n`);
    await sleep(600);
  }
  close();
  return { perClientKiB: (after - before) / CLIENTS, lat };
}

export async function runFanout(b: Bundles, token: string): Promise<void> {
  const { inbox, runDir } = await makeInbox(b.dir);
  const log = join(runDir, "stdout.log");
  await appendFile(log, "");
  const srv = await startServer(b, inbox);
  const ours = await measure(srv.proc, `${srv.url}/stream/stdout?from=end`, token.trim(), (l) =>
    appendFile(log, l),
  );
  await kill(srv.proc);
  const bare = spawn(process.execPath, ["-e", BARE], { stdio: ["pipe", "pipe", "inherit"] });
  const url = await new Promise<string>((r) =>
    bare.stdout!.once("data", (d: Buffer) => r(/http:\S+/.exec(d.toString())![0])),
  );
  const base = await measure(bare, url, token.trim(), async (l) => void bare.stdin!.write(l));
  await kill(bare);
  console.log(
    `${CLIENTS} idle clients: server RSS per client ${ours.perClientKiB.toFixed(1)} KiB (bare http server ${base.perClientKiB.toFixed(1)} KiB, ratio ${(ours.perClientKiB / base.perClientKiB).toFixed(2)}; target ≤ 30 KiB)`,
  );
  console.log(
    `fan-out of one line to ${CLIENTS} clients: attach server ${summary(ours.lat)}; bare server ${summary(base.lat)}`,
  );
}

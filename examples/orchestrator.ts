// An orchestrator in a few lines: three agents, each with its own VM, given the same task; their
// output streamed into ours line by line with the agent's name in front, the file each one made
// collected into staging for review, and every agent destroyed when its work is done, also when
// it fails (`await using`).
//
//   npx tsx examples/orchestrator.ts            # as root, after `agentshare init` and `image build`
//   AGENTS=1 AGENT_SETTINGS='{"access":"loopback"}' npx tsx examples/orchestrator.ts
//
// Output: the agents' lines on stderr, then one JSON line per agent on stdout.
import { AgentshareError, createAgentshare, type AgentSettings, type ProgressEvent } from "agentshare";

const count = Number(process.env.AGENTS ?? 3);
const settings = JSON.parse(process.env.AGENT_SETTINGS ?? "{}") as AgentSettings;

/** Progress worth a line; the transient status lines are left out (no terminal to redraw). */
const onProgress = (e: ProgressEvent) => {
  if (e.type === "note" || e.type === "warning") process.stderr.write(`[agentshare] ${e.message}\n`);
};

/** Prefixes each complete line with `name: `; keeps a partial line until its end arrives. */
function lines(name: string, seen: string[] = []): (chunk: Uint8Array) => void {
  let partial = "";
  return (chunk) => {
    const text = partial + Buffer.from(chunk).toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) {
      seen.push(l);
      process.stderr.write(`${name}: ${JSON.stringify(l).slice(1, -1)}\n`); // guest text, escaped
    }
  };
}

const as = createAgentshare({ onProgress });

/** The task: some lines of output, and a result file in the run's outputs folder. */
const TASK = [
  "sh",
  "-c",
  'for i in 1 2 3; do echo "step $i on $(hostname)"; sleep 0.2; done; ' +
    'echo "done by $(hostname)" > "$AGENTSHARE_OUTPUTS/result.txt"; echo "run=$AGENTSHARE_RUN_ID"',
];

async function work(i: number) {
  await using agent = await as.ephemeral({ prefix: `orch${i}`, settings });
  const out: string[] = [];
  const r = await agent.exec(TASK, { onStdout: lines(agent.name, out), onStderr: lines(agent.name) });
  if (r.exitCode !== 0) throw new Error(`${agent.name}: the task exited ${r.exitCode}`);
  // the run it made: from the exec (when the guest's exec server said), else from the task's own
  // last line; a guest-chosen name is safe here: collect opens no symlink and no `..`
  const run = r.run ?? /^run=(run-[0-9A-Za-z-]+)$/.exec(out.at(-1) ?? "")?.[1];
  if (!run) throw new Error(`${agent.name}: could not tell which run the task made`);
  const got = await agent.collect(`runs/${run}/outputs/result.txt`, {
    as: `${agent.name}-result.txt`,
    force: true,
  });
  return { agent: agent.name, run, exitCode: r.exitCode, collected: got.dest, sha256: got.sha256 };
}

try {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => work(i + 1)));
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
} catch (err) {
  const e = err instanceof AgentshareError ? err : undefined;
  process.stderr.write(`orchestrator: ${(err as Error).message}${e?.hint ? `\n  hint: ${e.hint}` : ""}\n`);
  process.exitCode = e?.exitCode ?? 1;
}

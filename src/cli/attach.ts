// `agentshare attach [-c] NAME [stdout|stderr|agent]`: follow an agent's live logs.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { StreamKind } from "../core/sse.js";
import { AGENT_NAME_HINT, checkAgentName } from "../core/names.js";
import { DataError, NotFoundError, UsageError } from "../errors.js";
import { createSink } from "./attach-output.js";
import { act, cliOf } from "./context.js";

interface AttachFlags {
  combined?: boolean;
  from: string;
  tail?: string;
  follow: boolean;
  raw?: boolean;
  url?: string;
  tokenFile?: string;
}

/** Validates the positional stream and flags into what the op needs. */
export function parseAttachArgs(name: string, stream: string | undefined, f: AttachFlags) {
  const bad = checkAgentName(name);
  // 65 like every other verb (ops/agent-name.ts), not 64: the name is data, the command line is fine
  if (bad)
    throw new DataError(`invalid agent name ${JSON.stringify(name)}: ${bad}`, { hint: AGENT_NAME_HINT });
  if (f.combined && stream !== undefined)
    throw new UsageError("-c already means stdout+stderr; leave out the stream name");
  const kind: StreamKind = f.combined ? "combined" : ((stream ?? "stdout") as StreamKind);
  if (!["stdout", "stderr", "agent", "combined"].includes(kind))
    throw new UsageError(
      `unknown stream ${JSON.stringify(stream)}: use stdout, stderr or agent (or -c for both)`,
    );
  if (f.from !== "start" && f.from !== "end")
    throw new UsageError(`--from must be start or end, got ${f.from}`);
  const tail = f.tail === undefined ? undefined : Number(f.tail);
  if (tail !== undefined && (!/^\d+$/.test(f.tail ?? "") || tail > 1_000_000))
    throw new UsageError(`--tail must be a whole number of lines (0-1000000), got ${f.tail}`);
  if (Boolean(f.url) !== Boolean(f.tokenFile)) throw new UsageError("--url and --token-file go together");
  return { kind, from: f.from as "start" | "end", tail };
}

/** --url and --token-file as the API's endpoint; undefined: the API looks the agent up. */
async function endpointOf(f: AttachFlags): Promise<{ url: string; token: string } | undefined> {
  if (!f.url || !f.tokenFile) return undefined;
  if (!/^https?:\/\//.test(f.url)) throw new UsageError(`--url must be an http(s) URL, got ${f.url}`);
  const token = await readFile(f.tokenFile, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new NotFoundError(`cannot read --token-file ${f.tokenFile}: ${err.code ?? err.message}`);
  });
  if (!token.trim()) throw new DataError(`--token-file ${f.tokenFile} is empty`);
  return { url: f.url, token: token.trim() };
}

export function registerAttach(program: Command): void {
  program
    .command("attach")
    .description(
      "follow an agent's live run logs (stdout by default); piped output is byte-identical to the log",
    )
    .argument("<name>", "agent name (with --url, only a label)")
    .argument("[stream]", "stdout, stderr or agent")
    .option("-c, --combined", "stdout and stderr together (stderr in red on a terminal)")
    .option("--from <where>", "first connection starts at the run's start or end", "start")
    .option("--tail <n>", "first connection starts N lines before the end")
    .option("--no-follow", "print what exists and exit")
    .option("--raw", "on a terminal, pass the guest's escape sequences through (default: only colours)")
    .option("--url <url>", "health server URL, e.g. http://10.0.0.5:8118 (instead of looking the VM up)")
    .option("--token-file <file>", "bearer token for --url")
    .action(
      act(async (name: string, stream: string | undefined, f: AttachFlags, cmd: Command) => {
        const { api, out, opts } = cliOf(cmd);
        const a = parseAttachArgs(name, stream, f);
        const endpoint = await endpointOf(f);
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once("SIGINT", stop);
        process.stdout.on("error", stop); // e.g. EPIPE from `| head`
        const tty = Boolean(process.stdout.isTTY) && !opts.json;
        const sink = createSink({
          label: name,
          json: opts.json,
          terminal: tty && !f.raw,
          color: tty,
          out: process.stdout,
          err: process.stderr,
        });
        const onNotice = opts.debug ? (m: string) => out.warn(m) : undefined;
        try {
          const events = api.attach(name, {
            endpoint,
            stream: a.kind,
            from: a.from,
            tail: a.tail,
            follow: f.follow,
            // piped raw bytes of one stream: catch up through plain bodies (--json keeps SSE chunks)
            bulk: !opts.json && !process.stdout.isTTY,
            onNotice,
            signal: ac.signal,
          });
          for await (const ev of events) sink.onEvent(ev);
        } catch (err) {
          if (!ac.signal.aborted) throw err; // Ctrl-C or a closed stdout ends attach quietly, as before
        } finally {
          process.off("SIGINT", stop);
          sink.end();
        }
      }),
    );
}

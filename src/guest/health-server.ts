// Entry of the guest health server (bundled to dist/guest/health-server.mjs for Node 18):
// /healthz, /health, /runs and the SSE log streams of the agent's current run.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createApp } from "./http-app.js";
import { InboxHub } from "./inbox-hub.js";
import { parseServerArgs, USAGE, type ServerOptions } from "./options.js";

function fail(message: string, code: number): never {
  process.stderr.write(`health-server: ${message}\n`);
  process.exit(code);
}

function loadToken(o: ServerOptions): string {
  let token: string;
  try {
    token = readFileSync(o.tokenFile, "utf8").trim();
  } catch (err) {
    fail(`cannot read --token-file ${o.tokenFile}: ${(err as Error).message}`, 66);
  }
  if (token.length < 16 || /\s/.test(token))
    fail(`the token in ${o.tokenFile} must be one word of at least 16 characters`, 78);
  return token;
}

/** Best effort: the error file only helps the first-boot wait report a reason. */
function writeQuietly(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o644 });
  } catch {
    // the journal still has the message
  }
}

async function main(): Promise<void> {
  let o: ServerOptions;
  try {
    o = parseServerArgs(process.argv.slice(2));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 64);
  }
  const token = loadToken(o);
  const hub = new InboxHub(o.inbox, o.pollMs, o.pingMs);
  await hub.start();
  const server = createServer(createApp(o, token, hub));
  server.on("error", (err) => {
    const why = `the health server cannot listen on ${o.host}:${o.port}: ${err.message}`;
    if (o.errorFile) writeQuietly(o.errorFile, `${why}\n`);
    fail(why, 69);
  });
  server.listen(o.port, o.host, () => {
    if (o.errorFile) rmSync(o.errorFile, { force: true });
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : o.port;
    process.stdout.write(`health-server: listening on http://${o.host}:${port}\n`);
  });
  const stop = () => {
    hub.close();
    server.close();
    server.closeAllConnections?.();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();

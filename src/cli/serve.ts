// `agentshare serve`: the HTTP API and web console in the foreground until SIGINT/SIGTERM
// (src/server/, docs/http-api.md). `agentshare open`: the console's login URL.
import type { Command } from "commander";
import { act, cliOf } from "./context.js";

interface ServeFlags {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureListen?: boolean;
  endpoint: string[];
}

const collectFlag = (v: string, all: string[]) => [...all, v];

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API and the web console (foreground); prints the login URL at first start")
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:8119")
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS (needed off loopback)")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .option("--insecure-listen", "allow an address off loopback without TLS")
    .option(
      "--endpoint <name=url>",
      "an agent's health server reached some other way (repeatable)",
      collectFlag,
      [],
    )
    .action(
      act(async (o: ServeFlags, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const { UsageError } = await import("../errors.js");
        const { parseListen } = await import("../server/listen.js");
        const { parseEndpointFlag, startServe } = await import("../server/serve.js");
        if (Boolean(o.tlsCert) !== Boolean(o.tlsKey))
          throw new UsageError("--tls-cert and --tls-key go together", {
            hint: "give both PEM files, or neither",
          });
        const s = await startServe({
          api,
          listen: parseListen(o.listen),
          tls: o.tlsCert && o.tlsKey ? { cert: o.tlsCert, key: o.tlsKey } : undefined,
          insecureListen: Boolean(o.insecureListen),
          endpoints: Object.fromEntries(o.endpoint.map(parseEndpointFlag)),
        });
        out.result({ ok: true, url: s.url, loginUrl: s.loginUrl ?? null }, () =>
          s.loginUrl
            ? `agentshare serve: listening on ${s.url}\nlog in (shown once; \`agentshare open\` prints it again): ${s.loginUrl}`
            : `agentshare serve: listening on ${s.url} (login URL: agentshare open)`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => void s.close().then(resolve);
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
      }),
    );
  program
    .command("open")
    .description("print the web console's login URL (agentshare serve must have started once)")
    .option("--listen <host:port>", "the address serve listens on", "127.0.0.1:8119")
    .option("--tls", "serve runs with TLS (https)")
    .action(
      act(async (o: { listen: string; tls?: boolean }, cmd: Command) => {
        const { api, out } = cliOf(cmd);
        const { NotFoundError } = await import("../errors.js");
        const { baseUrl, parseListen } = await import("../server/listen.js");
        const { loginUrl, readToken, tokenPath } = await import("../server/token.js");
        const token = await readToken(api.stateDir);
        if (!token)
          throw new NotFoundError(`no serve token at ${tokenPath(api.stateDir)}`, {
            hint: "start the server once: agentshare serve",
          });
        const url = loginUrl(baseUrl(parseListen(o.listen), o.tls ? "https" : "http"), token);
        out.result({ ok: true, loginUrl: url }, () => url);
      }),
    );
}

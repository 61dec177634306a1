// `agentshare serve` as a library call: the token, the HTTP(S) server, and the agents whose
// health server was registered explicitly (`--endpoint NAME=URL`: a port-forward, an agent on
// another machine, a test's server), whose token is still the one in <state-dir>/agents/NAME/token.
import { promises as fsp } from "node:fs";
import { createServer as createHttp, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import type { Agentshare } from "../api/agentshare.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths } from "../core/paths.js";
import { ConfigError, NotFoundError, UsageError } from "../errors.js";
import { createApp } from "./app.js";
import { baseUrl, checkListen, type ListenAddress } from "./listen.js";
import { defaultConsoleDir } from "./static.js";
import { loadOrCreateToken, loginUrl } from "./token.js";

export interface ServeOptions {
  api: Agentshare;
  listen: ListenAddress;
  tls?: { cert: string; key: string };
  insecureListen?: boolean;
  /** NAME → health server URL, for agents the API should not look up. */
  endpoints?: Record<string, string>;
  consoleDir?: string;
}

export interface Serving {
  server: Server;
  url: string;
  /** Set on the first start only: the URL with the token, printed once. */
  loginUrl: string | undefined;
  close(): Promise<void>;
}

/** "NAME=URL" → [NAME, URL], checked. */
export function parseEndpointFlag(text: string): [string, string] {
  const eq = text.indexOf("=");
  const name = text.slice(0, eq);
  const url = text.slice(eq + 1);
  const bad = eq < 0 ? "is not NAME=URL" : checkAgentName(name);
  if (bad)
    throw new UsageError(`--endpoint ${JSON.stringify(text)}: ${bad}`, {
      hint: "e.g. --endpoint agent-01=http://127.0.0.1:18118",
    });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--endpoint ${name}: ${JSON.stringify(url)} is not a URL`, {
      hint: "e.g. http://127.0.0.1:18118",
    });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`--endpoint ${name}: only http and https URLs`, {
      hint: "e.g. http://127.0.0.1:18118",
    });
  return [name, u.origin];
}

export async function startServe(o: ServeOptions): Promise<Serving> {
  const tls = o.tls;
  checkListen(o.listen, Boolean(tls), Boolean(o.insecureListen));
  const { token, created } = await loadOrCreateToken(o.api.stateDir);
  const endpoints = o.endpoints ?? {};
  const endpointOf = async (name: string) => {
    const url = endpoints[name];
    if (url === undefined) return undefined;
    const file = agentPaths(o.api.paths, name).token;
    const t = await fsp.readFile(file, "utf8").catch(() => {
      throw new NotFoundError(`no token for ${name} at ${file}`, {
        hint: "an --endpoint agent's token lives in <state-dir>/agents/NAME/token",
      });
    });
    return { url, token: t.trim() };
  };
  const scheme = tls ? "https" : "http";
  const app = createApp({
    api: o.api,
    token,
    scheme,
    endpointOf,
    consoleDir: o.consoleDir ?? defaultConsoleDir(),
  });
  let server: Server;
  if (tls) {
    const [cert, key] = await Promise.all([fsp.readFile(tls.cert), fsp.readFile(tls.key)]).catch(
      (err: unknown) => {
        throw new ConfigError(`cannot read the TLS certificate or key: ${(err as Error).message}`, [], {
          hint: "give PEM files: --tls-cert cert.pem --tls-key key.pem",
        });
      },
    );
    server = createHttps({ cert, key }, app);
  } else server = createHttp(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE" || err.code === "EADDRNOTAVAIL" || err.code === "EACCES"
          ? new UsageError(`cannot listen on ${o.listen.host}:${o.listen.port}: ${err.code}`, {
              hint: "is another serve running? pick another port with --listen HOST:PORT",
            })
          : err,
      ),
    );
    server.listen(o.listen.port, o.listen.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = baseUrl({ host: o.listen.host, port }, scheme);
  return {
    server,
    url,
    loginUrl: created ? loginUrl(url, token) : undefined,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

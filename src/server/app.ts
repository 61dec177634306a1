// serve's request handler: the console's files, the session exchange, and /api/* — every API
// route checks the credential first (401, nothing done), state-changing ones also the Origin
// (403). Each route is one call to the API object (src/api/agentshare.ts); its JSON is that
// call's result, the same object `agentshare … --json` prints. Routes: docs/http-api.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Agentshare } from "../api/agentshare.js";
import { DataError, NotFoundError } from "../errors.js";
import { LIFECYCLE, lifecycleCall, promoteCall, pruneCall, runCall, type Lifecycle } from "./actions.js";
import {
  clearedCookie,
  credentialOf,
  isStateChanging,
  originProblem,
  sessionCookie,
  tokenMatches,
} from "./auth.js";
import { serveFollow, serveLogs, type EndpointOf } from "./logs.js";
import { readJsonBody, SECURITY_HEADERS, sendError, sendJson } from "./reply.js";
import { isConsolePath, serveConsole } from "./static.js";

export interface AppOptions {
  api: Agentshare;
  token: string;
  /** "https" when serving TLS: the Origin to expect and the cookie's Secure flag. */
  scheme: "http" | "https";
  consoleDir: string;
  /** An agent's health server when registered explicitly (serve --endpoint); else the API finds it. */
  endpointOf: EndpointOf;
}

const segments = (path: string) => {
  try {
    return path.split("/").slice(1).map(decodeURIComponent);
  } catch {
    throw new DataError(`bad percent-encoding in ${JSON.stringify(path)}`, {
      hint: "encode the path with encodeURIComponent",
    });
  }
};

/** "report.txt" as a Content-Disposition that no guest-made name can break out of. */
export function attachmentHeader(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 200) || "download";
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function download(o: AppOptions, name: string, run: string, path: string, res: ServerResponse) {
  const { handle, size } = await o.api.openRunFile(name, run, path);
  try {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "application/octet-stream",
      "content-length": size,
      "content-disposition": attachmentHeader(path.split("/").pop() ?? "download"),
      "cache-control": "no-store",
    });
    for await (const chunk of handle.createReadStream({
      autoClose: false,
      end: Math.max(0, size - 1),
    }) as AsyncIterable<Buffer>) {
      if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } finally {
    await handle.close();
  }
}

async function route(o: AppOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { api } = o;
  const m = req.method ?? "GET";
  const [, ...p] = segments(url.pathname); // drop "api"
  const get = m === "GET";
  const post = m === "POST";
  if (p[0] === "agents") {
    const [, name, sub, run, sub2, ...rest] = p;
    if (name === undefined && get) return sendJson(res, 200, await api.list());
    if (name !== undefined && sub === undefined && get) return sendJson(res, 200, await api.status(name));
    if (name !== undefined && sub === "logs" && get) return serveLogs(api, o.endpointOf, name, url, req, res);
    if (name !== undefined && sub === "follow" && get)
      return serveFollow(api, o.endpointOf, name, url, req, res);
    if (name !== undefined && sub === "runs" && get) {
      if (run === undefined) return sendJson(res, 200, await api.runs(name));
      if (sub2 === "files" && !rest.length) return sendJson(res, 200, await api.runFiles(name, run));
      if (sub2 === "files") return download(o, name, run, rest.join("/"), res);
    }
    if (name !== undefined && post && LIFECYCLE.includes(sub as Lifecycle) && run === undefined)
      return runCall(req, res, (body) => lifecycleCall(api, sub as Lifecycle, name, body));
  }
  if (p[0] === "staging" && p.length === 1 && get) return sendJson(res, 200, await api.staging());
  if (p[0] === "promote" && p.length === 1 && post) return runCall(req, res, (b) => promoteCall(api, b));
  if (p[0] === "prune" && p.length === 1 && post) return runCall(req, res, (b) => pruneCall(api, b));
  if (p[0] === "audit" && p.length === 1 && get) {
    const limit = Number(url.searchParams.get("limit") ?? "200");
    if (!Number.isInteger(limit) || limit < 1)
      throw new DataError("limit must be a whole number ≥ 1", { hint: "e.g. ?limit=100" });
    return sendJson(res, 200, await api.audit({ limit }));
  }
  if (p[0] === "session" && p.length === 1 && m === "DELETE") {
    res.setHeader("set-cookie", clearedCookie(o.scheme === "https"));
    return sendJson(res, 200, { ok: true });
  }
  throw new NotFoundError(`no route ${m} ${url.pathname}`, {
    hint: "the routes are listed in docs/http-api.md",
  });
}

/** POST /api/session {token}: the console's login, answered with the session cookie. */
async function login(o: AppOptions, req: IncomingMessage, res: ServerResponse) {
  const problem = originProblem(req, undefined, o.scheme);
  if (problem || !req.headers.origin)
    return sendJson(res, 403, { ok: false, error: problem ?? "no Origin header", exitCode: 77 });
  const body = await readJsonBody(req);
  if (!tokenMatches(body.token, o.token))
    return sendJson(res, 401, {
      ok: false,
      error: "wrong token",
      hint: "run `agentshare open` for the login URL",
      exitCode: 77,
    });
  res.setHeader("set-cookie", sessionCookie(o.token, o.scheme === "https"));
  sendJson(res, 200, { ok: true });
}

export function createApp(o: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://serve.invalid");
    const handle = async () => {
      if (!url.pathname.startsWith("/api/") && req.method === "GET" && isConsolePath(url.pathname))
        return serveConsole(o.consoleDir, url.pathname, res);
      if (url.pathname === "/api/session" && req.method === "POST") return login(o, req, res);
      const cred = credentialOf(req, o.token);
      if (!cred) {
        res.setHeader("www-authenticate", 'Bearer realm="agentshare"');
        return sendJson(res, 401, {
          ok: false,
          error: "not logged in: no valid session cookie or bearer token",
          hint: "open the URL `agentshare open` prints, or send Authorization: Bearer $(cat <state-dir>/serve-token)",
          exitCode: 77,
        });
      }
      const problem = isStateChanging(req.method) ? originProblem(req, cred, o.scheme) : undefined;
      if (problem)
        return sendJson(res, 403, {
          ok: false,
          error: `cross-origin request refused: ${problem}`,
          exitCode: 77,
        });
      if (!url.pathname.startsWith("/api/"))
        throw new NotFoundError(`no page ${url.pathname}`, { hint: "the console is at /" });
      return route(o, req, res, url);
    };
    handle().catch((err: unknown) => sendError(res, err));
  };
}

// The console's files (built into dist/console by scripts/build.mjs): a fixed list, read from
// one folder, so no request path ever reaches the file system.
import { promises as fsp } from "node:fs";
import type { ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SECURITY_HEADERS } from "./reply.js";

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/agent": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** dist/console beside dist/server. */
export const defaultConsoleDir = () => join(dirname(dirname(fileURLToPath(import.meta.url))), "console");

export const isConsolePath = (path: string) => path in FILES;

export async function serveConsole(dir: string, path: string, res: ServerResponse): Promise<void> {
  const f = FILES[path];
  if (!f) return;
  const body = await fsp.readFile(join(dir, f.file)).catch(() => undefined);
  if (!body) {
    res.writeHead(503, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
    res.end(`the console is not built (${join(dir, f.file)} is missing): run npm run build\n`);
    return;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": f.type,
    "cache-control": "no-cache",
    "content-length": body.length,
  });
  res.end(body);
}

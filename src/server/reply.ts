// How serve answers: JSON bodies, errors as { ok: false, error, hint, exitCode } with an HTTP
// status from the error's class (the CLI's exit code, as a status), and the security headers
// every response carries (a strict Content-Security-Policy: the console's own files only).
import type { IncomingMessage, ServerResponse } from "node:http";
import { AgentshareError, permissionErrorOf } from "../errors.js";

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** The HTTP status for an exit code (sysexits). */
export function statusOf(exitCode: number): number {
  switch (exitCode) {
    case 64:
    case 65:
      return 400;
    case 66:
      return 404;
    case 69:
      return 502;
    case 75:
      return 503;
    case 77:
      return 403;
    default:
      return 500;
  }
}

/** An error as the JSON the CLI prints with --json. */
export function errorBody(thrown: unknown): { ok: false; error: string; hint?: string; exitCode: number } {
  const err = permissionErrorOf(thrown) ?? thrown;
  if (err instanceof AgentshareError)
    return { ok: false, error: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode };
  return { ok: false, error: err instanceof Error ? err.message : String(err), exitCode: 70 };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, thrown: unknown): void {
  const body = errorBody(thrown);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusOf(body.exitCode), body);
}

/** A JSON request body of at most 64 KiB; {} when empty. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const { DataError } = await import("../errors.js");
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024)
      throw new DataError("request body over 64 KiB", { hint: "send a small JSON object" });
    parts.push(chunk);
  }
  const text = Buffer.concat(parts).toString("utf8").trim();
  if (!text) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new DataError("request body is not JSON", {
      hint: 'send e.g. {"file":"x"} with content-type application/json',
    });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new DataError("request body must be a JSON object", { hint: 'e.g. {"file":"x"}' });
  return doc as Record<string, unknown>;
}

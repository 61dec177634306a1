// Who may use serve: a request carries the token as `Authorization: Bearer` (API clients) or the
// session cookie the console got by POSTing the token to /api/session. A request that changes
// anything must also come from serve's own origin when it has an Origin header (browsers always
// send one on a cross-origin POST), and a cookie alone is never enough without one.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const COOKIE = "agentshare_session";

/** The cookie's value: derived from the token, so the cookie is not the token itself. */
export const sessionOf = (token: string) =>
  createHmac("sha256", token).update("agentshare serve session v1").digest("hex");

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The named cookie's value from a Cookie header, if any. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export type Credential = "bearer" | "cookie" | undefined;

/** Which valid credential the request carries, if any. */
export function credentialOf(req: IncomingMessage, token: string): Credential {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ") && same(auth.slice(7).trim(), token)) return "bearer";
  const c = cookieValue(req.headers.cookie, COOKIE);
  if (c !== undefined && same(c, sessionOf(token))) return "cookie";
  return undefined;
}

export const isStateChanging = (method: string | undefined) =>
  !["GET", "HEAD", "OPTIONS"].includes(method ?? "");

/**
 * Why a state-changing request is refused, or undefined: an Origin other than serve's own, or a
 * cookie-authenticated request without any Origin (a browser always sends one on POST).
 */
export function originProblem(
  req: IncomingMessage,
  cred: Credential,
  scheme: "http" | "https",
): string | undefined {
  const origin = req.headers.origin;
  const own = `${scheme}://${req.headers.host ?? ""}`;
  if (origin === undefined)
    return cred === "cookie" ? "a request with the session cookie must carry an Origin header" : undefined;
  return origin === own ? undefined : `Origin ${origin} is not this server's (${own})`;
}

/** The Set-Cookie header for a session: HttpOnly, SameSite=Strict, Secure under TLS. */
export const sessionCookie = (token: string, secure: boolean) =>
  `${COOKIE}=${sessionOf(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;

export const clearedCookie = (secure: boolean) =>
  `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;

/** Whether a presented token (the console's login) is the right one. */
export const tokenMatches = (given: unknown, token: string) =>
  typeof given === "string" && same(given, token);

// Where serve listens and whether that is allowed: loopback freely; any other address only with
// TLS or an explicit --insecure-listen (the token and cookie would cross the network in clear).
import { isIP } from "node:net";
import { UsageError } from "../errors.js";

export const DEFAULT_LISTEN = "127.0.0.1:8119";

export interface ListenAddress {
  host: string;
  port: number;
}

/** "HOST:PORT" or "[V6]:PORT"; throws a UsageError naming the problem. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port > 65535)
    throw new UsageError(`--listen ${JSON.stringify(text)} is not HOST:PORT`, {
      hint: `e.g. --listen ${DEFAULT_LISTEN} (or [::1]:8119; port 0 picks a free one)`,
    });
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.split(".")[0] === "127";
}

/** Refuses an address off loopback without TLS unless the operator insisted. */
export function checkListen(a: ListenAddress, tls: boolean, insecure: boolean): void {
  if (isLoopback(a.host) || tls || insecure) return;
  throw new UsageError(
    `refusing to listen on ${a.host} without TLS: the login token would cross the network in clear`,
    {
      hint: "give --tls-cert FILE --tls-key FILE, or --insecure-listen if the network is trusted, or listen on 127.0.0.1",
    },
  );
}

/** The base URL a browser on this host uses. */
export function baseUrl(a: ListenAddress, scheme: "http" | "https"): string {
  const host =
    a.host === "0.0.0.0"
      ? "127.0.0.1"
      : a.host === "::"
        ? "[::1]"
        : isIP(a.host) === 6
          ? `[${a.host}]`
          : a.host;
  return `${scheme}://${host}:${a.port}`;
}

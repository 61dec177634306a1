// Command-line options of the guest health server (hand-parsed: the bundle has no dependencies).

export interface ServerOptions {
  inbox: string;
  global: string;
  port: number;
  host: string;
  tokenFile: string;
  agent: string;
  /** Where to say why the server cannot listen (for the first-boot wait); "" for nowhere. */
  errorFile: string;
  pingMs: number;
  pollMs: number;
  flushMs: number;
  capBytes: number;
  stallMs: number;
}

const DEFAULTS: Omit<ServerOptions, "inbox" | "tokenFile" | "port"> = {
  global: "/mnt/global",
  host: "0.0.0.0",
  agent: "",
  errorFile: "",
  pingMs: 15_000,
  pollMs: 250,
  flushMs: 100,
  capBytes: 1024 * 1024,
  stallMs: 30_000,
};

export const USAGE =
  "usage: health-server --inbox DIR --port N --token-file FILE [--host ADDR] [--agent NAME] [--global DIR]\n" +
  "       [--error-file FILE]\n" +
  "       [--ping-ms N] [--poll-ms N] [--flush-ms N] [--cap-bytes N] [--stall-ms N]";

const NUMERIC: Record<string, keyof ServerOptions> = {
  "--port": "port",
  "--ping-ms": "pingMs",
  "--poll-ms": "pollMs",
  "--flush-ms": "flushMs",
  "--cap-bytes": "capBytes",
  "--stall-ms": "stallMs",
};
const TEXT: Record<string, keyof ServerOptions> = {
  "--inbox": "inbox",
  "--global": "global",
  "--host": "host",
  "--token-file": "tokenFile",
  "--agent": "agent",
  "--error-file": "errorFile",
};

/** Parses argv (without node and script); throws an Error whose message says what to fix. */
export function parseServerArgs(argv: readonly string[]): ServerOptions {
  const o: Record<string, unknown> = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? "";
    const value = argv[i + 1];
    const key = NUMERIC[flag] ?? TEXT[flag];
    if (!key) throw new Error(`unknown option ${flag}`);
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (NUMERIC[flag]) {
      const n = Number(value);
      const min = flag === "--port" ? 0 : 1;
      if (!Number.isInteger(n) || n < min || (flag === "--port" && n > 65535))
        throw new Error(`${flag} must be an integer${flag === "--port" ? " 0-65535" : " ≥ 1"}, got ${value}`);
      o[key] = n;
    } else o[key] = value;
  }
  for (const need of ["inbox", "tokenFile", "port"] as const)
    if (o[need] === undefined) throw new Error(`missing --${need === "tokenFile" ? "token-file" : need}`);
  return o as unknown as ServerOptions;
}

/// <reference lib="dom" />
// The console's DOM and fetch helpers. Every string goes into the page as text (textContent,
// never innerHTML): log lines, file and run names and metrics fields are the guest's.

type Child = Node | string | null | undefined | false;

/** An element with attributes (never event handler attributes) and text or element children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) throw new Error(`refusing attribute ${k}`);
    e.setAttribute(k, v);
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false)
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

export function table(head: string[], rows: Child[][]): HTMLTableElement {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))),
  );
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** GET or POST JSON; a non-2xx answer throws its error message. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const doc = (await r.json().catch(() => ({}))) as { error?: string; hint?: string };
  if (!r.ok) throw new ApiError(doc.error ?? `HTTP ${r.status}`, r.status, doc.hint);
  return doc as T;
}

/** POSTs an action asking for NDJSON progress; each line goes to `onLine`; resolves with the result. */
export async function action(path: string, body: unknown, onLine: (text: string) => void): Promise<unknown> {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!r.ok || !r.body) {
    const doc = (await r.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(doc.error ?? `HTTP ${r.status}`, r.status);
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let result: unknown;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as {
        type: string;
        message?: string;
        result?: unknown;
        error?: string;
        hint?: string;
      };
      buf = buf.slice(nl + 1);
      if (line.type === "result") result = line.result;
      else if (line.type === "error")
        throw new ApiError(`${line.error ?? "failed"}${line.hint ? ` (${line.hint})` : ""}`, 500);
      else if (line.message) onLine(line.message);
    }
  }
  return result;
}

export const bytes = (n: number | null | undefined) => {
  if (n === null || n === undefined) return "-";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
};

export const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

/// <reference lib="dom" />
// The web console: log in (the token from the URL's fragment becomes an HttpOnly cookie), then
// the fleet (#/), one agent (#/agent/NAME), staging (#/staging) and the audit log (#/audit).
import { action, api, ApiError, bytes, el, path, table } from "./dom.js";
import { logView, type LogView } from "./log-view.js";

// the objects the API returns (type-only: nothing of the host side is bundled into the page)
import type { AgentStatus } from "../ops/status.js";
import type { RunInfo, StagingFile } from "../ops/runs.js";

const main = () => document.getElementById("main") as HTMLElement;
const status = (s: string) => {
  (document.getElementById("status") as HTMLElement).textContent = s;
};
let cleanup: (() => void) | undefined;

const exitText = (code: number | null, persisted: boolean | null, run: string | null) =>
  run === null ? "-" : `${code ?? "running"}${persisted === false ? " NOT PERSISTED" : ""}`;

function fleetRow(a: AgentStatus) {
  const link = el("a", { href: `#/agent/${encodeURIComponent(a.name)}` }, a.name);
  const inbox =
    a.inboxBytes === null
      ? "-"
      : `${bytes(a.inboxBytes)} / ${bytes(a.inboxLimitBytes)}${a.inboxFull ? " FULL" : ""}`;
  const exit = el(
    "span",
    { class: a.latestExitCode ? "bad" : "good" },
    exitText(a.latestExitCode, a.latestPersisted, a.latestRun),
  );
  return [link, a.state, a.ready ? "yes" : "no", inbox, String(a.runs), a.latestRun ?? "-", exit];
}

async function fleet() {
  const holder = el("div", { id: "fleet" });
  main().replaceChildren(el("h2", {}, "Fleet"), holder);
  const draw = async () => {
    const agents = await api<AgentStatus[]>("/api/agents");
    holder.replaceChildren(
      agents.length
        ? table(["name", "state", "ready", "inbox", "runs", "latest run", "exit"], agents.map(fleetRow))
        : el("p", {}, "no agents yet (agentshare provision NAME)"),
    );
  };
  await draw();
  const t = setInterval(() => void draw().catch((e: Error) => status(e.message)), 3000);
  cleanup = () => clearInterval(t);
}

function actionButtons(name: string, progress: HTMLElement) {
  return ["start", "stop", "restart", "destroy"].map((verb) => {
    const b = el("button", { "data-action": verb }, verb);
    b.addEventListener("click", () => {
      if (!confirm(`${verb} ${name}?`)) return;
      progress.textContent = `${verb}…`;
      action(`/api/agents/${path(name)}/${verb}`, {}, (m) => (progress.textContent = m)).then(
        (r) => (progress.textContent = `${verb}: ${JSON.stringify(r)}`),
        (e: Error) => (progress.textContent = `${verb} failed: ${e.message}`),
      );
    });
    return b;
  });
}

async function runFiles(name: string, run: string, into: HTMLElement) {
  const files = await api<{ path: string; size: number }[]>(
    `/api/agents/${path(name)}/runs/${path(run)}/files`,
  );
  const link = (p: string) =>
    el(
      "a",
      {
        href: `/api/agents/${path(name)}/runs/${path(run)}/files/${p.split("/").map(encodeURIComponent).join("/")}`,
        download: "",
      },
      p,
    );
  into.replaceChildren(
    el("h2", {}, `Files of ${run}`),
    table(
      ["file", "size"],
      files.map((f) => [link(f.path), bytes(f.size)]),
    ),
  );
}

async function agentPage(name: string) {
  const progress = el("div", { class: "progress", id: "progress" });
  const files = el("div", { id: "files" });
  const runsBox = el("div", { id: "runs" });
  let view: LogView | undefined = logView(name, (s) => status(s));
  const s = await api<AgentStatus>(`/api/agents/${path(name)}`);
  const download = s.latestRun
    ? el(
        "a",
        { href: `/api/agents/${path(name)}/runs/${path(s.latestRun)}/files/stdout.log`, download: "" },
        "download stdout.log",
      )
    : null;
  main().replaceChildren(
    el("h2", {}, `${name} — ${s.state}${s.ready ? ", ready" : ""}`),
    el("div", { class: "toolbar" }, ...actionButtons(name, progress)),
    progress,
    view.node,
    el("div", { class: "toolbar" }, download),
    runsBox,
    files,
  );
  const runs = await api<RunInfo[]>(`/api/agents/${path(name)}/runs`);
  const pick = (run: string) => {
    const b = el("button", {}, run);
    b.addEventListener("click", () => void runFiles(name, run, files).catch((e: Error) => status(e.message)));
    return b;
  };
  runsBox.replaceChildren(
    el("h2", {}, "Runs"),
    table(
      ["run", "exit", "duration", "peak memory"],
      runs.map((r) => [
        pick(r.run),
        exitText(r.exitCode, r.persisted, r.run),
        r.durationS === null ? "-" : `${r.durationS} s`,
        r.maxRssKib === null ? "-" : bytes(r.maxRssKib * 1024),
      ]),
    ),
  );
  cleanup = () => {
    view?.close();
    view = undefined;
  };
}

async function staging() {
  const progress = el("div", { class: "progress", id: "progress" });
  const files = await api<StagingFile[]>("/api/staging");
  const promote = (f: StagingFile) => {
    const to = el(
      "select",
      {},
      ...["tools", "prompts", "configs", "content"].map((t) => el("option", { value: t }, t)),
    );
    const b = el("button", { "data-promote": f.name }, "promote");
    b.addEventListener("click", () => {
      if (!confirm(`promote ${f.name} (sha256 ${f.sha256}) into global/${to.value}?`)) return;
      action("/api/promote", { file: f.name, to: to.value }, (m) => (progress.textContent = m)).then(
        () => void staging(),
        (e: Error) => (progress.textContent = `promote failed: ${e.message}`),
      );
    });
    return el("span", {}, to, b);
  };
  main().replaceChildren(
    el("h2", {}, "Staging"),
    progress,
    files.length
      ? table(
          ["file", "size", "sha256", ""],
          files.map((f) => [f.name, bytes(f.size), el("span", { class: "sha" }, f.sha256), promote(f)]),
        )
      : el("p", {}, "staging is empty (agentshare collect NAME PATH puts a file here)"),
  );
}

async function audit() {
  const records = await api<Record<string, unknown>[]>("/api/audit?limit=200");
  const cell = (v: unknown) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  main().replaceChildren(
    el("h2", {}, "Audit log"),
    table(
      ["time", "action", "agent", "details"],
      records.reverse().map((r) => {
        const { ts, time, action: a, agent, ...rest } = r;
        return [cell(ts ?? time), cell(a), cell(agent), el("span", { class: "mono" }, cell(rest))];
      }),
    ),
  );
}

async function login(token: string) {
  history.replaceState(null, "", "#/");
  await api("/api/session", { token });
}

async function show() {
  cleanup?.();
  cleanup = undefined;
  const h = location.hash;
  try {
    if (h.startsWith("#token=")) {
      await login(decodeURIComponent(h.slice(7)));
      return show();
    }
    const m = /^#\/agent\/(.+)$/.exec(h);
    if (m) await agentPage(decodeURIComponent(m[1] as string));
    else if (h === "#/staging") await staging();
    else if (h === "#/audit") await audit();
    else await fleet();
  } catch (e) {
    const err = e as ApiError;
    main().replaceChildren(
      el(
        "p",
        { class: "bad", id: "error" },
        err.status === 401 ? "Not logged in: open the URL that `agentshare open` prints." : err.message,
      ),
    );
  }
}

window.addEventListener("hashchange", () => void show());
void show();

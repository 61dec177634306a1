/// <reference lib="dom" />
// The live log: an EventSource on /api/agents/NAME/logs (it reconnects by itself with
// Last-Event-ID, and serve resumes exactly there), stdout and stderr told apart, ANSI colours
// parsed by anser into text runs (set with textContent, colours with CSSOM, never as HTML), a
// bounded number of lines kept, follow/pause, a filter.
import Anser from "anser";
import { el } from "./dom.js";

export const MAX_LINES = 5000;
type Stream = "stdout" | "stderr" | "agent";

const RGB = /^\d{1,3}, \d{1,3}, \d{1,3}$/;

/** One line's text as coloured spans. */
function renderLine(text: string, parser: Anser): DocumentFragment {
  const f = document.createDocumentFragment();
  for (const part of parser.ansiToJson(text, { json: true, remove_empty: true })) {
    const span = document.createElement("span");
    span.textContent = part.content;
    if (part.fg && RGB.test(part.fg)) span.style.color = `rgb(${part.fg})`;
    if (part.bg && RGB.test(part.bg)) span.style.backgroundColor = `rgb(${part.bg})`;
    for (const d of part.decorations)
      if (d === "bold" || d === "italic" || d === "underline") span.classList.add(d[0] as string);
    f.append(span);
  }
  return f;
}

export interface LogView {
  node: HTMLElement;
  close(): void;
}

export function logView(agent: string, onState: (s: string) => void): LogView {
  const box = el("div", { class: "log", id: "log", "data-testid": "log" });
  const follow = el("input", { type: "checkbox", id: "follow", checked: "" });
  const filter = el("input", { type: "search", id: "filter", placeholder: "filter lines" });
  const dropped = el("span", { class: "dropped", id: "dropped" });
  const decoders: Record<Stream, TextDecoder> = {
    stdout: new TextDecoder(),
    stderr: new TextDecoder(),
    agent: new TextDecoder(),
  };
  const parsers: Record<Stream, Anser> = { stdout: new Anser(), stderr: new Anser(), agent: new Anser() };
  const pending: Partial<Record<Stream, { node: HTMLElement; text: string }>> = {};
  let lines = 0;
  let droppedCount = 0;

  const matches = (text: string) => !filter.value || text.toLowerCase().includes(filter.value.toLowerCase());
  const place = (node: HTMLElement, text: string) => node.classList.toggle("hidden", !matches(text));

  function addText(s: Stream, text: string) {
    let rest = text;
    while (rest) {
      const nl = rest.indexOf("\n");
      const piece = nl < 0 ? rest : rest.slice(0, nl + 1);
      rest = nl < 0 ? "" : rest.slice(nl + 1);
      let p = pending[s];
      if (!p) {
        p = { node: el("div", { class: s }), text: "" };
        box.append(p.node);
        lines++;
        pending[s] = p;
      }
      p.text += piece;
      p.node.replaceChildren(renderLine(p.text, nl < 0 ? new Anser() : parsers[s]));
      place(p.node, p.text);
      if (nl >= 0) pending[s] = undefined;
    }
    while (lines > MAX_LINES && box.firstChild) {
      box.firstChild.remove();
      lines--;
      droppedCount++;
    }
    dropped.textContent = droppedCount ? `${droppedCount} earlier lines dropped (download for all)` : "";
    if (follow.checked) box.scrollTop = box.scrollHeight;
  }

  filter.addEventListener("input", () => {
    for (const n of Array.from(box.children) as HTMLElement[]) place(n, n.textContent ?? "");
  });

  const es = new EventSource(`/api/agents/${encodeURIComponent(agent)}/logs?stream=combined`);
  es.addEventListener("open", () => onState("live"));
  es.addEventListener("error", () => onState("reconnecting…"));
  es.addEventListener("data", (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as { s: Stream; t?: string; b?: string };
    const bytes =
      d.t !== undefined
        ? new TextEncoder().encode(d.t)
        : Uint8Array.from(atob(d.b ?? ""), (c) => c.charCodeAt(0));
    addText(d.s, decoders[d.s].decode(bytes, { stream: true }));
  });
  es.addEventListener("run", (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as { run: string; prev: string | null };
    if (d.prev !== null) box.append(el("div", { class: "dropped" }, `— new run ${d.run} —\n`));
  });
  es.addEventListener("exit", (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as {
      run: string;
      exitCode: number | null;
      persisted: boolean;
    };
    onState(`run ${d.run} exited ${d.exitCode ?? "?"}${d.persisted ? "" : " (output NOT persisted)"}`);
  });
  es.addEventListener("failure", (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as { error: string };
    onState(`log unavailable: ${d.error}`);
  });

  const node = el(
    "section",
    {},
    el("div", { class: "toolbar" }, el("label", {}, follow, " follow"), filter, dropped),
    box,
  );
  return { node, close: () => es.close() };
}

// The local host for callers that load nothing heavy up front (the CLI, the library API): its
// plain properties are there at once, and each method (all async) first loads src/host/local.ts.
import { tmpdir } from "node:os";
import type { Runner } from "../adapters/runner.js";
import type { Host } from "./host.js";

/** localHost(run), with src/host/local.ts and the adapters behind it imported on first use. */
export function lazyLocalHost(run: Runner): Host {
  let host: Promise<Host> | undefined;
  const get = () => (host ??= import("./local.js").then((m) => m.localHost(run)));
  const plain: Partial<Host> = { name: "local", run, tmpDir: tmpdir() };
  return new Proxy(plain as Host, {
    get: (target, key: keyof Host | "then") =>
      key === "then" // not a promise: `await host` must not wait on it
        ? undefined
        : key in target
          ? target[key]
          : (...args: unknown[]) =>
              get().then((h) => (h[key] as (...a: unknown[]) => unknown).apply(h, args)),
  });
}

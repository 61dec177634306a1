// The package as another project gets it: `npm pack`, the tarball installed into a fresh temp
// project (offline, from npm's cache: no network), a TypeScript program type-checked against
// the declarations it ships and run. The program dry-runs a provision and catches a bad name as
// the exported error class with exit code 65; a deliberate type error must be reported, which
// proves the types are real and not `any`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/cli.js";
import { ensureBuilt } from "./prune-harness.js";

const base = mkdtempSync(join(tmpdir(), "agentshare-pkg-"));
const project = join(base, "consumer");
const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");

const PROGRAM = `import {
  AgentshareError,
  createAgentshare,
  DataError,
  type AttachEvent,
  type ProvisionResult,
} from "agentshare";

const [root, stateDir] = process.argv.slice(2) as [string, string];
const as = createAgentshare({ root, stateDir });
const r: ProvisionResult = await as.provision("pkg-01", {
  dryRun: true,
  settings: { image: null, network: null, kernel: "/boot/vmlinuz-test", memory: 512 },
});
let caught: unknown;
try {
  await as.provision("Not A Name", { dryRun: true });
} catch (err) {
  caught = err;
}
if (!(caught instanceof AgentshareError)) throw new Error("not an AgentshareError: " + String(caught));
const isData = caught instanceof DataError;
const kinds: Array<AttachEvent["type"]> = ["data", "run", "exit", "end"];
console.log(JSON.stringify({ action: r.action, xml: r.files.domainXml, code: caught.exitCode, isData, hint: caught.hint, kinds }));
`;

/** Type errors the compiler must report: a wrong argument type and an unknown setting. */
const WRONG = `import { createAgentshare } from "agentshare";
const as = createAgentshare({});
// @ts-expect-error a name is a string
void as.provision(42);
// @ts-expect-error no such setting
void as.provision("a", { settings: { memroy: 512 } });
// @ts-expect-error exec resolves with an exit code, not a string
const code: string = (await as.exec("a", ["true"])).exitCode;
void code;
`;

function tsc(args: string[]) {
  return spawnSync(process.execPath, [TSC, ...args], { cwd: project, encoding: "utf8" });
}

beforeAll(() => {
  ensureBuilt();
  const packDir = join(base, "pack");
  mkdirSync(packDir);
  execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: REPO, stdio: "pipe" });
  const tarball = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${packDir}`);
  mkdirSync(project);
  // offline, from npm's cache: a lock file made of this repo's own entries for the runtime
  // dependencies (npm ci fetched exactly those tarballs), so `npm ci` needs no registry
  const spec = `file:../pack/${tarball}`;
  const ours = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
    packages: Record<
      string,
      { dev?: boolean; dependencies?: Record<string, string> } & Record<string, unknown>
    >;
  };
  const self = ours.packages[""]!;
  const packages: Record<string, unknown> = {
    "": { name: "consumer", version: "1.0.0", dependencies: { agentshare: spec } },
    "node_modules/agentshare": {
      version: self.version,
      resolved: spec,
      license: self.license,
      dependencies: self.dependencies,
      bin: self.bin,
      engines: self.engines,
    },
  };
  for (const [path, entry] of Object.entries(ours.packages))
    if (path.startsWith("node_modules/") && !entry.dev) packages[path] = entry;
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      version: "1.0.0",
      type: "module",
      private: true,
      dependencies: { agentshare: spec },
    }),
  );
  writeFileSync(
    join(project, "package-lock.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages }),
  );
  execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: project,
    stdio: "pipe",
  });
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        lib: ["ES2023", "ESNext.Disposable"],
        strict: true,
        outDir: "out",
        typeRoots: [join(REPO, "node_modules", "@types")],
        types: ["node"],
      },
      include: ["main.ts"],
    }),
  );
  writeFileSync(join(project, "main.ts"), PROGRAM);
}, 300_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("type-checks and runs a program: a dry-run provision, a bad name as DataError with exit code 65", () => {
    const c = tsc(["-p", "tsconfig.json"]);
    expect(c.status, c.stdout + c.stderr).toBe(0);
    const root = join(base, "root");
    const state = join(base, "state");
    const r = spawnSync(process.execPath, [join(project, "out", "main.js"), root, state], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, AGENTSHARE_CONFIG: undefined },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ action: "dry-run", code: 65, isData: true });
    expect(out.xml).toBe(join(state, "agents", "pkg-01", "domain.xml"));
    expect(readFileSync(String(out.xml), "utf8")).toContain("<name>pkg-01</name>");
    expect(String(out.hint)).toMatch(/letters|digits/);
  });

  it("ships real types: the compiler reports wrong uses", () => {
    writeFileSync(join(project, "wrong.ts"), WRONG);
    const c = tsc(["--noEmit", "-p", "tsconfig.json"]);
    expect(c.status, c.stdout).toBe(0); // main.ts alone still passes
    const w = spawnSync(
      process.execPath,
      [
        TSC,
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "ES2022",
        "--lib",
        "ES2023,ESNext.Disposable",
        "--typeRoots",
        join(REPO, "node_modules", "@types"),
        "--types",
        "node",
        "wrong.ts",
      ],
      { cwd: project, encoding: "utf8" },
    );
    // every @ts-expect-error above is used: an `any` API would leave them unused (TS2578)
    expect(w.stdout).not.toMatch(/TS2578/);
    expect(w.status, w.stdout).toBe(0);
  });
});

#!/usr/bin/env node
// Builds dist/: tsc for the host CLI, and esbuild for the guest health server,
// which must be one dependency-free file that runs on the guest's Node 18.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildConsole } from "./build-console.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);
chmodSync(join(root, "dist/cli/main.js"), 0o755);

mkdirSync(join(root, "dist/guest"), { recursive: true });
await build({
  entryPoints: [join(root, "src/guest/health-server.ts")],
  outfile: join(root, "dist/guest/health-server.mjs"),
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  banner: { js: "#!/usr/bin/env node" },
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(join(root, "dist/guest/health-server.mjs"), 0o755);

// the host helper the controlling machine runs over SSH on a remote VM host (src/host/helper.ts):
// one file for the host's own Node (Debian 12: 18), no runtime dependencies
mkdirSync(join(root, "dist/host"), { recursive: true });
await build({
  entryPoints: [join(root, "src/host/helper.ts")],
  outfile: join(root, "dist/host/host-helper.mjs"),
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  legalComments: "none",
  logLevel: "warning",
  external: ["execa"],
});

// the web console `agentshare serve` serves (src/console), bundled for browsers
await buildConsole(join(root, "dist/console"));

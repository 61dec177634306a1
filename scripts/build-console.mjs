// Builds the web console (src/console) into one folder: app.js (bundled for browsers, its npm
// dependencies inside: no CDN), index.html and app.css. Used by scripts/build.mjs and the tests.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Writes the console into `outDir`. */
export async function buildConsole(outDir) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, "src/console/main.ts")],
    outfile: join(outDir, "app.js"),
    bundle: true,
    platform: "browser",
    target: "chrome110",
    format: "esm",
    legalComments: "none",
    logLevel: "warning",
  });
  for (const f of ["index.html", "app.css"]) copyFileSync(join(root, "src/console", f), join(outDir, f));
}

// The files a real guest runs, read from the installed package: the per-run wrapper
// (cloud-init/agentshare-run) and the bundled health server (dist/guest/health-server.mjs).
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import type { GuestPayload } from "../core/cloud-init.js";
import { InternalError } from "../errors.js";
import { PACKAGE_ROOT } from "./config-load.js";

export const RUN_WRAPPER_SOURCE = join(PACKAGE_ROOT, "cloud-init", "agentshare-run");
export const HEALTH_SERVER_BUNDLE = join(PACKAGE_ROOT, "dist", "guest", "health-server.mjs");

export async function loadGuestPayload(): Promise<GuestPayload> {
  const read = (path: string) =>
    fsp.readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new InternalError(`cannot read ${path}: ${err.code ?? err.message}`, {
        hint: "build the package first: npm ci && npm run build",
      });
    });
  const [runWrapper, healthServer] = await Promise.all([
    read(RUN_WRAPPER_SOURCE),
    read(HEALTH_SERVER_BUNDLE),
  ]);
  return { runWrapper, healthServer };
}

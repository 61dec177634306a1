// The files a real guest runs, read from the installed package: the per-run wrapper
// (cloud-init/agentshare-run) and the bundled health server (dist/guest/health-server.mjs).
import { join } from "node:path";
import { PACKAGE_ROOT, readPackageText } from "../adapters/controller-files.js";
import type { GuestPayload } from "../core/cloud-init.js";

export const RUN_WRAPPER_SOURCE = join(PACKAGE_ROOT, "cloud-init", "agentshare-run");
export const HEALTH_SERVER_BUNDLE = join(PACKAGE_ROOT, "dist", "guest", "health-server.mjs");

export async function loadGuestPayload(): Promise<GuestPayload> {
  const [runWrapper, healthServer] = await Promise.all([
    readPackageText(RUN_WRAPPER_SOURCE),
    readPackageText(HEALTH_SERVER_BUNDLE),
  ]);
  return { runWrapper, healthServer };
}

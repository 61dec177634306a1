// libvirt's and cloud-init's own validators on a file: virt-xml-validate (libvirt-clients) and
// `cloud-init schema`. Shared by the tools tier and the end-to-end tier.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "vitest";

/** execFile as a promise (rejects on a non-zero exit with stdout and stderr attached). */
export const run = promisify(execFile);

export async function validateDomainXml(file: string): Promise<void> {
  const r = await run("virt-xml-validate", [file, "domain"]).catch(
    (e: { stdout: string; stderr: string }) => e,
  );
  expect(`${r.stdout}${r.stderr}`, file).toMatch(/validates/);
}

export async function validateUserData(file: string): Promise<void> {
  const r = await run("cloud-init", ["schema", "--config-file", file]).catch(
    (e: { stdout: string; stderr: string }) => e,
  );
  expect(`${r.stdout}${r.stderr}`, file).toMatch(/^Valid cloud-config/m);
}

// The agent's inbox on the host: created owned by the agent uid:gid (0770), never clobbered.
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { ensureDir, lstatOrUndefined } from "../adapters/fs.js";
import { INBOX_SUBDIRS } from "../core/paths.js";
import { DataError } from "../errors.js";

export interface InboxResult {
  created: boolean;
  /** Set when an existing inbox's owner differs from the configured uid:gid. */
  ownerMismatch?: string;
}

/**
 * Creates `<root>/NAME-inbox/{outputs,logs,runs}` owned by uid:gid, mode 0770. An existing inbox
 * keeps its content: only missing subfolders are added, and nothing the guest put there
 * (a symlink included) is followed, replaced or re-owned.
 */
export async function ensureInbox(inbox: string, uid: number, gid: number): Promise<InboxResult> {
  const st = await lstatOrUndefined(inbox);
  if (st && !st.isDirectory())
    throw new DataError(
      `${inbox} exists but is not a directory${st.isSymbolicLink() ? " (a symlink)" : ""}`,
      {
        hint: "move it out of the way; an inbox must be a real directory",
      },
    );
  const created = await ensureDir(inbox, 0o770);
  if (created) await fsp.lchown(inbox, uid, gid);
  for (const sub of INBOX_SUBDIRS) {
    const path = join(inbox, sub);
    if (await lstatOrUndefined(path)) continue;
    await fsp.mkdir(path, { mode: 0o770 });
    await fsp.chmod(path, 0o770);
    await fsp.lchown(path, uid, gid);
  }
  const now = await fsp.lstat(inbox);
  const ownerMismatch =
    now.uid !== uid || now.gid !== gid
      ? `${inbox} is owned by ${now.uid}:${now.gid}, the agent runs as ${uid}:${gid}`
      : undefined;
  return ownerMismatch ? { created, ownerMismatch } : { created };
}

// GET /bytes/<stream>: bulk catch-up for a client far behind. The file's bytes from the
// client's position to its current end go as one plain body (no SSE framing, no base64),
// the position of the first byte in a header; the client derives every later id from the
// byte count. Anything but the plain case (no run, no file, rotated, truncated, less than
// `min` bytes left) is 204: the client then follows /stream/<stream>, which reports it.
import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { BULK_ID_HEADER, encodeId, STREAM_FILES, type FilePos, type StreamName } from "../core/sse.js";
import { FileCursor } from "./file-cursor.js";
import type { InboxHub } from "./inbox-hub.js";
import type { ServerOptions } from "./options.js";
import { runDir } from "./runs.js";
import type { SessionStart } from "./stream-session.js";

const CHUNK = 512 * 1024;
/** Read ahead while less than this is queued for the socket, as the SSE session does. */
const WINDOW = 1024 * 1024;

export interface BulkStart extends SessionStart {
  kind: StreamName;
  /** Answer 204 when fewer bytes than this are left. */
  min: number;
}

/** Where the body starts: the resume position, or from/tail of a first connection. */
async function startPos(path: string, start: BulkStart): Promise<FilePos> {
  if (start.resume) return start.resume.pos[0] ?? { ino: "0", off: 0 };
  const c = new FileCursor(path, { ino: "0", off: 0 });
  await c.seek(start.from, start.tail);
  await c.close();
  return { ino: c.ino, off: c.off };
}

/** Opens the log when it is still the file of `pos` with at least `min` bytes past it. */
async function openPlain(path: string, pos: FilePos, min: number) {
  let fh: FileHandle;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = await fh.stat({ bigint: true });
  const size = Number(st.size);
  if (st.isFile() && st.ino.toString() === pos.ino && size - pos.off >= Math.max(1, min)) return { fh, size };
  await fh.close();
  return undefined;
}

/** Answers one /bytes request; resolves when the body is sent or the client is gone. */
export async function sendBulk(
  res: ServerResponse,
  o: ServerOptions,
  hub: InboxHub,
  start: BulkStart,
): Promise<void> {
  const gone = { closed: false };
  res.once("close", () => (gone.closed = true));
  await hub.refresh();
  const run = start.resume?.run ?? hub.current;
  const dir = run ? await runDir(o.inbox, run) : undefined;
  const path = dir ? join(dir, STREAM_FILES[start.kind]) : undefined;
  const pos = path ? await startPos(path, start) : undefined;
  const file = path && pos ? await openPlain(path, pos, start.min) : undefined;
  if (!run || !pos || !file) return void res.writeHead(204, { "Cache-Control": "no-store" }).end();
  try {
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(file.size - pos.off),
      "Cache-Control": "no-store",
      [BULK_ID_HEADER]: encodeId({ run, pos: [pos] }),
    });
    await pump(res, o, gone, file.fh, pos.off, file.size);
  } finally {
    await file.fh.close().catch(() => undefined);
  }
}

async function pump(
  res: ServerResponse,
  o: ServerOptions,
  gone: { closed: boolean },
  fh: FileHandle,
  off: number,
  end: number,
) {
  while (off < end) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - off));
    const { bytesRead } = await fh.read(buf, 0, buf.length, off);
    if (gone.closed || res.destroyed) return;
    // the file shrank under us: cut the body short, the client resumes and hears `truncate`
    if (bytesRead === 0) return void res.destroy();
    off += bytesRead;
    res.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    if (res.writableLength < WINDOW) continue;
    const why = await drained(res, o.stallMs);
    if (why === "closed") return;
    if (why === "stalled") {
      process.stderr.write("health-server: cutting off a slow bulk client: not reading\n");
      return void res.destroy();
    }
  }
  res.end();
}

/** Waits until `res` drains, closes, or stays full for `ms`. */
function drained(res: ServerResponse, ms: number): Promise<"drained" | "closed" | "stalled"> {
  return new Promise((resolve) => {
    const done = (why: "drained" | "closed" | "stalled") => {
      clearTimeout(t);
      res.off("drain", onDrain).off("close", onClose);
      resolve(why);
    };
    const onDrain = () => done("drained");
    const onClose = () => done("closed");
    const t = setTimeout(() => done("stalled"), ms);
    res.on("drain", onDrain).on("close", onClose);
  });
}

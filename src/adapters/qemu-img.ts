// qemu-img: qcow2 overlays on a base image, and `info --output=json`. Argv builders and the
// parser are pure; the runner calls are thin.
import type { Host } from "../host/host.js";
import { DataError, InternalError, NotFoundError, toolError } from "../errors.js";
import { parseSize } from "../core/units.js";
import type { Runner } from "./runner.js";

export interface ImageInfo {
  filename: string;
  format: string;
  virtualSizeBytes: number;
  actualSizeBytes?: number;
  /** Backing file as recorded in the image, and resolved to a full path; absent without one. */
  backingFile?: string;
  fullBackingFile?: string;
  backingFormat?: string;
}

/** `qemu-img create -f qcow2 -F qcow2 -b BASE OVERLAY [SIZE]`: a copy-on-write overlay on BASE. */
export function createOverlayArgv(base: string, overlay: string, sizeBytes?: number): string[] {
  const argv = ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay];
  if (sizeBytes !== undefined) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0)
      throw new DataError(`disk size must be a whole number of bytes greater than 0, not ${sizeBytes}`);
    argv.push(String(sizeBytes));
  }
  return argv;
}

/** `qemu-img info -U --output=json FILE`; -U (force share) so it also reads an image a running VM holds. */
export const infoArgv = (file: string) => ["info", "-U", "--output=json", file];

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** Parses `qemu-img info --output=json` (one image; not --backing-chain). */
export function parseImageInfo(stdout: string): ImageInfo {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(stdout) as Record<string, unknown>;
  } catch (err) {
    throw new InternalError("`qemu-img info --output=json` printed something that is not JSON", {
      cause: err,
    });
  }
  const format = str(j.format);
  const virtualSizeBytes = num(j["virtual-size"]);
  if (!format || virtualSizeBytes === undefined)
    throw new InternalError(`\`qemu-img info\` output lacks format or virtual-size: ${stdout.slice(0, 200)}`);
  const info: ImageInfo = { filename: str(j.filename) ?? "", format, virtualSizeBytes };
  const actual = num(j["actual-size"]);
  if (actual !== undefined) info.actualSizeBytes = actual;
  const backing = str(j["backing-filename"]);
  if (backing) info.backingFile = backing;
  const full = str(j["full-backing-filename"]);
  if (full) info.fullBackingFile = full;
  const backingFormat = str(j["backing-filename-format"]);
  if (backingFormat) info.backingFormat = backingFormat;
  return info;
}

/** qemu-img's stderr says the file (or its backing file) does not exist. */
export const isImageMissing = (stderr: string) => /Could not open .*No such file or directory/.test(stderr);

export interface OverlaySpec {
  base: string;
  overlay: string;
  /** Virtual size: bytes, or a size text such as "20G"; absent keeps the base image's size. */
  size?: number | string;
}

/** The overlay size in bytes, or undefined for none; DataError for a size text that does not parse. */
export function overlaySizeBytes(size: number | string | undefined): number | undefined {
  if (size === undefined || typeof size === "number") return size;
  const bytes = parseSize(size);
  if (bytes === undefined)
    throw new DataError(`disk size ${JSON.stringify(size)} is not a size such as "20G"`);
  return bytes;
}

/**
 * Creates a qcow2 overlay on `base` (a qcow2 image); NotFoundError when `base` does not exist.
 * A size below the base's is refused: qemu-img accepts it, and the guest's file system would be cut.
 */
export async function createOverlay(run: Runner, spec: OverlaySpec): Promise<void> {
  const sizeBytes = overlaySizeBytes(spec.size);
  const argv = createOverlayArgv(spec.base, spec.overlay, sizeBytes);
  if (sizeBytes !== undefined) {
    const baseSize = (await imageInfo(run, spec.base)).virtualSizeBytes;
    if (sizeBytes < baseSize)
      throw new DataError(`disk size ${sizeBytes} bytes is smaller than the base image's ${baseSize} bytes`, {
        hint: "give a size at least as large as the base image, or none to keep its size",
      });
  }
  const r = await run("qemu-img", argv);
  if (r.exitCode === 0) return;
  if (isImageMissing(r.stderr))
    throw new NotFoundError(`base image ${spec.base} does not exist`, {
      hint: "build or copy the base image first",
    });
  throw toolError(["qemu-img", ...argv], r);
}

/** Format, sizes and backing file of an image; NotFoundError when it does not exist. */
export async function imageInfo(run: Runner, file: string): Promise<ImageInfo> {
  const argv = infoArgv(file);
  const r = await run("qemu-img", argv);
  if (r.exitCode === 0) return parseImageInfo(r.stdout);
  if (isImageMissing(r.stderr)) throw new NotFoundError(`image ${file} does not exist`);
  throw toolError(["qemu-img", ...argv], r);
}

/** The first four bytes of every qcow2 image, "QFI\xfb" (docs/interop/qcow2.txt in QEMU). */
export const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** True when `head` (the file's first bytes) starts like a qcow2 image. */
export const isQcow2Header = (head: Buffer): boolean =>
  head.length >= QCOW2_MAGIC.length && head.subarray(0, QCOW2_MAGIC.length).equals(QCOW2_MAGIC);

const IMAGE_HINT =
  "give a qcow2 image: a name from `agentshare image list` or an absolute path (convert another disk with `qemu-img convert -O qcow2 IN OUT.qcow2`)";

/**
 * Checks that `file` is a qcow2 image (overlays are made with `-F qcow2`): a regular file that
 * starts with the qcow2 magic, read on the host (O_NONBLOCK: a FIFO cannot block). Resolves false when it
 * does not exist (the caller decides whether that matters); DataError for anything else.
 */
export async function checkQcow2File(host: Pick<Host, "stat" | "readHead">, file: string): Promise<boolean> {
  const cannot = (err: unknown) =>
    new DataError(
      `image ${file} cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      {
        hint: IMAGE_HINT,
      },
    );
  const st = await host.stat(file).catch((err: unknown) => {
    throw cannot(err);
  });
  if (!st) return false;
  if (st.kind !== "file")
    throw new DataError(`image ${file} is not a regular file${st.kind === "dir" ? " (a directory)" : ""}`, {
      hint: IMAGE_HINT,
    });
  const head = await host.readHead(file, QCOW2_MAGIC.length).catch((err: unknown) => {
    throw err instanceof DataError
      ? new DataError(`image ${file} is not a regular file`, { hint: IMAGE_HINT })
      : cannot(err);
  });
  if (!head) return false;
  if (!isQcow2Header(Buffer.from(head)))
    throw new DataError(`image ${file} is not a qcow2 disk image (no qcow2 header)`, { hint: IMAGE_HINT });
  return true;
}

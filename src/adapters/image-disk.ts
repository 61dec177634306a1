// Turning a root tree into a disk without a loop mount: `mkfs.ext4 -d TREE` populates the
// file system from the folder, `qemu-img convert -c` makes a compressed qcow2 of it.
// (qemu-img is run here directly: no shared qemu-img adapter existed when this was written.)
import { ToolError } from "../errors.js";
import { runChecked, type Runner } from "./runner.js";

/** `mkfs.ext4 -q -F -L LABEL -d TREE -E root_owner=0:0 IMG`: the file must already have its size. */
export function mkfsArgv(tree: string, img: string, label: string): string[] {
  return ["-q", "-F", "-L", label, "-d", tree, "-E", "root_owner=0:0", img];
}

/** `qemu-img convert -O qcow2 -c -f raw RAW OUT`. */
export function convertArgv(raw: string, out: string): string[] {
  return ["convert", "-f", "raw", "-O", "qcow2", "-c", raw, out];
}

/** `qemu-img info --output=json -f qcow2 FILE`. */
export function infoArgv(file: string): string[] {
  return ["info", "--output=json", "-f", "qcow2", file];
}

/** The virtual size in bytes from `qemu-img info --output=json`; undefined when absent. */
export function parseVirtualSize(stdout: string): number | undefined {
  const doc = JSON.parse(stdout) as { "virtual-size"?: unknown };
  const v = doc["virtual-size"];
  return typeof v === "number" ? v : undefined;
}

/** Makes the ext4 file system in `img` from `tree`. */
export async function makeExt4(
  run: Runner,
  mkfs: string,
  tree: string,
  img: string,
  label: string,
): Promise<void> {
  await runChecked(run, mkfs, mkfsArgv(tree, img, label), {
    timeoutMs: 20 * 60_000,
    hint: "is the image size (--size) big enough for the tree? debootstrap's tree is ~750 MB",
  });
}

/** Converts a raw disk to a compressed qcow2 and returns its virtual size. */
export async function convertToQcow2(
  run: Runner,
  qemuImg: string,
  raw: string,
  out: string,
): Promise<number> {
  await runChecked(run, qemuImg, convertArgv(raw, out), {
    timeoutMs: 20 * 60_000,
    hint: "is there free space in the images dir?",
  });
  const size = parseVirtualSize(await runChecked(run, qemuImg, infoArgv(out)));
  if (size === undefined)
    throw new ToolError(`\`qemu-img info ${out}\` printed no virtual-size`, {
      hint: "check the qemu-utils install",
    });
  return size;
}

// Names of files in staging/ and global/<sub>/: exactly one plain path component, so a
// name can never leave its folder, and never one of the names promote itself writes.

export const SIDECAR_SUFFIXES = [".sha256", ".meta.json"] as const;

/**
 * Returns the rule `name` breaks, or undefined when it is a valid file name.
 * Rejected: empty, "." and "..", any "/", a leading "." (hidden and temp files), control
 * characters and "\" (they would need escaping in a sha256sum line), the sidecar suffixes,
 * and names over 200 bytes (room for the sidecar suffix within NAME_MAX).
 */
export function checkFileName(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name === "." || name === "..") return `must not be "${name}"`;
  if (name.includes("/")) return "must be a plain file name without '/' (subfolders are not allowed)";
  if (name.startsWith(".")) return "must not start with '.'";
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c === "\x7f" || c === "\\"))
    return "must not contain control characters or '\\'";
  const suffix = SIDECAR_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `must not end with ${suffix} (promote writes those files itself)`;
  if (new TextEncoder().encode(name).length > 200) return "must be at most 200 bytes long";
  return undefined;
}

/** Splits a relative inbox path into components; returns the rule it breaks or the parts. */
export function splitRelativePath(path: string): { parts: string[] } | { problem: string } {
  if (path.length === 0) return { problem: "must not be empty" };
  if (path.startsWith("/")) return { problem: "must be relative to the inbox (no leading '/')" };
  if (path.includes("\0")) return { problem: "must not contain NUL" };
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) return { problem: "must name a file" };
  if (parts.includes("..")) return { problem: "must not contain '..'" };
  return { parts };
}

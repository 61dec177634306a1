// Pure parts of the guest server: where events are cut, mountinfo parsing, option parsing.
import { describe, expect, test } from "vitest";
import { lineStartFromEnd, sendableLength, utf8Boundary } from "../../src/guest/chunking.js";
import { mountAt, parseMountinfo as parseHostMountinfo } from "../../src/core/mountinfo.js";
import { checkMount, parseMountinfo } from "../../src/guest/mountinfo.js";
import { parseServerArgs } from "../../src/guest/options.js";
import { compareRuns, summariseMetrics } from "../../src/guest/runs.js";

const B = (s: string | number[]) => (typeof s === "string" ? Buffer.from(s) : Buffer.from(s));

describe("chunking", () => {
  test("cuts after the last LF or CR; waits on a partial line unless flushing", () => {
    expect(sendableLength(B("a\nb\nc"), false, false)).toBe(4);
    expect(sendableLength(B("10%\r20%\r3"), false, false)).toBe(8);
    expect(sendableLength(B("partial"), false, false)).toBe(0);
    expect(sendableLength(B("partial"), false, true)).toBe(7);
  });

  test("a full buffer without a line end is cut at a UTF-8 boundary", () => {
    const euro = B("€"); // e2 82 ac
    expect(sendableLength(Buffer.concat([B("ab"), euro.subarray(0, 2)]), true, false)).toBe(2);
    expect(utf8Boundary(Buffer.concat([B("ab"), euro]))).toBe(5);
    expect(utf8Boundary(Buffer.concat([B("a"), B("😀").subarray(0, 3)]))).toBe(1);
    expect(utf8Boundary(B([0x80, 0x80, 0x80, 0x80]))).toBe(4); // not UTF-8: no reason to hold back
    expect(utf8Boundary(B([0xf0, 0x9f]))).toBe(2); // never 0
  });

  test("counts lines back from the end", () => {
    expect(lineStartFromEnd(B("a\nb\nc\n"), 2, true)).toEqual({ index: 2, found: 2 });
    expect(lineStartFromEnd(B("a\nb\nc"), 1, true)).toEqual({ index: 4, found: 1 });
    expect(lineStartFromEnd(B("a\nb\n"), 5, true)).toEqual({ index: -1, found: 1 });
  });
});

describe("mountinfo", () => {
  // recorded from a guest (Debian 12, virtiofs, Linux 6.1)
  const text = [
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,errors=remount-ro",
    "30 22 0:27 / /mnt/global ro,relatime shared:12 - virtiofs agentglobal ro",
    "31 22 0:28 / /mnt/inbox rw,relatime shared:13 - virtiofs agentinbox rw",
    "32 22 0:29 / /mnt/with\\040space rw shared:14 - tmpfs tmpfs rw",
    "garbage line",
  ].join("\n");

  test("parses entries, unescapes octal", () => {
    const e = parseMountinfo(text);
    expect(e).toHaveLength(4);
    expect(e[1]).toMatchObject({
      mountPoint: "/mnt/global",
      fsType: "virtiofs",
      source: "agentglobal",
      options: ["ro", "relatime"],
    });
    expect(e[3]?.mountPoint).toBe("/mnt/with space");
  });

  test("checks expected access", () => {
    const e = parseMountinfo(text);
    expect(checkMount(e, "/mnt/global/", "ro").ok).toBe(true);
    expect(checkMount(e, "/mnt/inbox", "rw")).toMatchObject({
      ok: true,
      fsType: "virtiofs",
      readOnly: false,
    });
    expect(checkMount(e, "/mnt/inbox", "ro").ok).toBe(false);
    expect(checkMount(e, "/mnt/none", "rw")).toMatchObject({ mounted: false, ok: false });
  });

  test("is the host's parser: a line the host rejects (no numeric ids) is no mount in the guest either", () => {
    const forged = `${text}\nx y 0:30 / /mnt/forged ro shared:15 - virtiofs agentglobal ro`;
    expect(checkMount(parseMountinfo(forged), "/mnt/forged", "ro")).toMatchObject({ mounted: false });
    expect(mountAt(parseHostMountinfo(forged), "/mnt/forged")).toBeUndefined();
  });
});

describe("options and runs", () => {
  test("parses flags, fills defaults, names what is wrong", () => {
    const o = parseServerArgs(["--inbox", "/i", "--port", "8118", "--token-file", "/t", "--ping-ms", "50"]);
    expect(o).toMatchObject({
      inbox: "/i",
      port: 8118,
      tokenFile: "/t",
      pingMs: 50,
      global: "/mnt/global",
      pollMs: 250,
    });
    expect(() => parseServerArgs(["--inbox", "/i", "--port", "x", "--token-file", "/t"])).toThrow(
      /--port must be/,
    );
    expect(() => parseServerArgs(["--inbox", "/i", "--token-file", "/t"])).toThrow(/missing --port/);
    expect(() => parseServerArgs(["--bogus", "1"])).toThrow(/unknown option --bogus/);
    expect(() => parseServerArgs(["--inbox"])).toThrow(/--inbox needs a value/);
  });

  test("run order and metrics summary", () => {
    const runs = [
      "run-20260101-000000-10",
      "run-20260101-000000",
      "run-20260101-000000-2",
      "run-20251231-235959",
    ];
    expect(runs.sort(compareRuns)).toEqual([
      "run-20251231-235959",
      "run-20260101-000000",
      "run-20260101-000000-2",
      "run-20260101-000000-10",
    ]);
    expect(summariseMetrics(Buffer.from('{"exit":0,"o":{},"a":[1]}'))).toEqual({ exit: 0 });
    expect(summariseMetrics(Buffer.from("[1]"))).toBeNull();
    expect(summariseMetrics(Buffer.from("{"))).toBeNull();
  });
});

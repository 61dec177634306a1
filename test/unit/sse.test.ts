// The protocol codec (src/core/sse.ts): ids, framing, and byte-exact payloads for any bytes.
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  decodeEvent,
  decodeId,
  encodeEvent,
  encodeId,
  SseFrameParser,
  type StreamEvent,
} from "../../src/core/sse.js";

const RUN = "run-20260102-030405";

/** Encodes events, feeds the text to the parser in pieces of `step` chars, decodes the frames. */
function roundTrip(events: StreamEvent[], step: number): StreamEvent[] {
  const text = events.map(encodeEvent).join("");
  const p = new SseFrameParser();
  const frames = [];
  for (let i = 0; i < text.length; i += step) frames.push(...p.feed(text.slice(i, i + step)));
  return frames.map((f) => decodeEvent(f.event, f.data, f.id));
}

describe("event ids", () => {
  test("round-trip one and two positions", () => {
    const one = { run: RUN, pos: [{ ino: "1234", off: 0 }] };
    const two = {
      run: `${RUN}-3`,
      pos: [
        { ino: "18446744073709551615", off: 2 ** 40 },
        { ino: "0", off: 7 },
      ],
    };
    expect(encodeId(one)).toBe(`${RUN}:1234.0`);
    expect(decodeId(encodeId(one))).toEqual(one);
    expect(decodeId(encodeId(two))).toEqual(two);
  });

  test.each([
    ["", "empty"],
    [`${RUN}`, "no position"],
    [`${RUN}:1.2:3.4:5.6`, "three positions"],
    [`run-2026:1.2`, "bad run name"],
    [`${RUN}-0:1.2`, "a -0 suffix (run-names.ts: the suffix starts 1-9)"],
    [`run-20261301-000000:1.2`, "month 13: not a run name the host accepts either"],
    [`../etc:1.2`, "path in run"],
    [`${RUN}:1.-2`, "negative offset"],
    [`${RUN}:1.99999999999999999`, "unsafe offset"],
    [`${RUN}:x.2`, "non-numeric inode"],
  ])("rejects %j (%s)", (text) => {
    expect(decodeId(text)).toBeUndefined();
  });
});

describe("framing", () => {
  test("any bytes survive: CR, CRLF, NUL, invalid UTF-8, split multi-byte, BOM", () => {
    const samples = [
      Buffer.from("a\rb\r\nc\n"),
      Buffer.from([0xef, 0xbb, 0xbf, 0x41]),
      Buffer.from([0x00, 0x0d, 0x0a, 0x0d]),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from("€").subarray(0, 2),
      Buffer.from("\u2028 line sep \u2029"),
      randomBytes(4096),
    ];
    const events: StreamEvent[] = samples.map((bytes, i) => ({
      type: "data",
      id: `${RUN}:9.${i}`,
      s: "stdout",
      bytes,
    }));
    for (const step of [1, 3, 7, 1000, 1e9]) {
      const back = roundTrip(events, step);
      expect(back.map((e) => (e.type === "data" ? Buffer.from(e.bytes).toString("hex") : e.type))).toEqual(
        samples.map((s) => s.toString("hex")),
      );
    }
  });

  test("valid UTF-8 travels as text, anything else as base64; data is one line", () => {
    const text = encodeEvent({ type: "data", id: `${RUN}:1.5`, s: "stderr", bytes: Buffer.from("é\r\n") });
    expect(text).toBe(`event: data\nid: ${RUN}:1.5\ndata: {"s":"stderr","t":"é\\r\\n"}\n\n`);
    const bin = encodeEvent({
      type: "data",
      id: `${RUN}:1.5`,
      s: "stdout",
      bytes: Buffer.from([0xff, 0x0a]),
    });
    expect(bin).toContain('"b":"/wo="');
  });

  test("control events round-trip; ping and hello carry no id", () => {
    const events: StreamEvent[] = [
      { type: "hello", agent: "a1", stream: "combined", run: null, pingMs: 500 },
      { type: "run", id: `${RUN}:0.0:0.0`, run: RUN, prev: null },
      { type: "truncate", id: `${RUN}:5.0:6.10`, s: "stdout" },
      { type: "rotate", id: `${RUN}:7.0:6.10`, s: "stdout" },
      { type: "ping" },
      { type: "end" },
    ];
    expect(roundTrip(events, 5)).toEqual(events);
    expect(encodeEvent({ type: "ping" })).not.toContain("id:");
  });

  test("parser: CRLF and CR line ends, comments, multi-line data, id persists", () => {
    const p = new SseFrameParser();
    const frames = p.feed(": hi\r\nevent: x\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r");
    expect(frames).toEqual([{ event: "x", data: "a\nb", id: "7" }]);
    expect(p.feed("\n")).toEqual([]); // the held CR was the first half of a CRLF
    expect(p.feed("\r")).toEqual([]);
    expect(p.feed("x")).toEqual([{ event: "message", data: "c", id: "7" }]);
  });

  test("decodeEvent rejects malformed frames with a message", () => {
    expect(() => decodeEvent("data", "{}", `${RUN}:1.1`)).toThrow(/bad stream/);
    expect(() => decodeEvent("data", '{"s":"stdout","t":"x"}', "nope")).toThrow(/bad id/);
    expect(() => decodeEvent("data", '{"s":"stdout"}', `${RUN}:1.1`)).toThrow(/without t or b/);
    expect(() => decodeEvent("weird", "{}", undefined)).toThrow(/unknown event type/);
    expect(() => decodeEvent("run", "not json", undefined)).toThrow();
  });
});

describe("Unicode line separators in data events", () => {
  test("U+0085, U+2028 and U+2029 are escaped, so splitting the frame on them cuts nothing", () => {
    const text = "a\u2028b\u2029c\u0085d é\n";
    const ev: StreamEvent = { type: "data", id: `${RUN}:1.0`, s: "stdout", bytes: Buffer.from(text) };
    const frame = encodeEvent(ev);
    // what Python's str.splitlines() (requests' decode_unicode=True recipe) treats as line ends
    expect(frame.split(/[\u0085\u2028\u2029]/)).toHaveLength(1);
    const [f] = new SseFrameParser().feed(frame);
    const back = decodeEvent(f!.event, f!.data, f!.id);
    expect(back.type === "data" && Buffer.from(back.bytes).toString()).toBe(text);
  });
});

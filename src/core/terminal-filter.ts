// A streaming filter for guest bytes on their way to the operator's terminal: an ECMA-48 state
// machine that passes printable text, valid UTF-8, TAB, LF, CR and SGR colours (`ESC [ 0-9;: m`)
// and shows every other control as visible text (`\x1b]52;c;…\x07`), so the guest can neither
// move the cursor, clear the screen, retitle the window, write the clipboard nor answer back.
// Sequences and UTF-8 characters may straddle chunks; all it holds between chunks is one CSI of
// at most CSI_MAX bytes and up to 3 bytes of a character. Control strings (OSC, DCS, SOS, PM,
// APC) need no state of their own: their opener and terminator (BEL, ST in both forms) are shown
// escaped and what lies between is printable text, so an unterminated string holds nothing. Pure.

/** A CSI with more parameter bytes than this is shown as text (SGR needs a handful). */
export const CSI_MAX = 64;

const GROUND = 0;
const ESC = 1; // after ESC
const CSI = 2; // after ESC [ or C1 CSI, collecting parameter and intermediate bytes

const hex = (b: number) => `\\x${b.toString(16).padStart(2, "0")}`;
const isSgrParams = (body: number[]) => body.every((b) => b >= 0x30 && b <= 0x3b); // digits : ;

/** Expected length of a UTF-8 sequence from its lead byte (0: not a lead byte). */
function utf8Length(b: number): number {
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/** Whether `b` may follow `lead` as the second byte (no overlongs, surrogates or > U+10FFFF). */
function secondOk(lead: number, b: number): boolean {
  if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf;
  if (lead === 0xed) return b >= 0x80 && b <= 0x9f;
  if (lead === 0xf0) return b >= 0x90 && b <= 0xbf;
  if (lead === 0xf4) return b >= 0x80 && b <= 0x8f;
  return b >= 0x80 && b <= 0xbf;
}

/** One filter per byte stream (a sequence split across chunks belongs to one file). */
export class TerminalFilter {
  #state = GROUND;
  #csiIntro = ""; // how the CSI introducer is shown if the sequence is not SGR
  #csiBody: number[] = [];
  #utf: number[] = []; // an incomplete UTF-8 character
  #utfNeed = 0;
  #sgrSeen = false;
  #out: string[] = [];

  /** Filters one chunk; returns what is safe to write now. */
  push(chunk: Uint8Array): Buffer {
    let safeFrom = -1; // start of a run of plain ASCII in ground state, copied in one slice
    const flushRun = (end: number) => {
      if (safeFrom >= 0) this.#out.push(Buffer.from(chunk.subarray(safeFrom, end)).toString("latin1"));
      safeFrom = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      const plain = (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
      if (plain && this.#state === GROUND && this.#utfNeed === 0) {
        if (safeFrom < 0) safeFrom = i;
        continue;
      }
      flushRun(i);
      this.#byte(b);
    }
    flushRun(chunk.length);
    return this.#take();
  }

  /** At the end of the stream: shows whatever is pending, and resets colours if SGR went by. */
  flush(): Buffer {
    this.#abandon();
    for (const b of this.#utf) this.#emit(hex(b));
    this.#utf = [];
    this.#utfNeed = 0;
    if (this.#sgrSeen) this.#emit("\x1b[0m");
    this.#sgrSeen = false;
    return this.#take();
  }

  #take(): Buffer {
    const out = Buffer.from(this.#out.join(""), "latin1");
    this.#out = [];
    return out;
  }

  /** Text goes out as latin1 code units: escapes are ASCII, characters are added as their bytes. */
  #emit(text: string): void {
    this.#out.push(text);
  }

  #emitBytes(bytes: number[]): void {
    this.#out.push(String.fromCharCode(...bytes));
  }

  /** UTF-8 assembly: complete characters and single bytes go on to the escape machine. */
  #byte(b: number): void {
    if (this.#utfNeed > 0) {
      const ok = this.#utf.length === 1 ? secondOk(this.#utf[0] as number, b) : b >= 0x80 && b <= 0xbf;
      if (ok) {
        this.#utf.push(b);
        if (this.#utf.length === this.#utfNeed) this.#char(this.#utf.splice(0));
        if (this.#utf.length === 0) this.#utfNeed = 0;
        return;
      }
      const bad = this.#utf.splice(0);
      this.#utfNeed = 0;
      for (const x of bad) this.#unit(x, true);
    }
    if (b >= 0x80 && utf8Length(b) > 0) {
      this.#utf = [b];
      this.#utfNeed = utf8Length(b);
      return;
    }
    this.#unit(b, b >= 0x80);
  }

  /** A complete, valid multi-byte character: C1 code points (U+0080–U+009F) act as C1 controls. */
  #char(bytes: number[]): void {
    if (bytes.length === 2 && bytes[0] === 0xc2 && (bytes[1] as number) <= 0x9f) {
      const c1 = bytes[1] as number;
      return this.#c1(c1, `\\u00${c1.toString(16)}`);
    }
    this.#abandon();
    this.#emitBytes(bytes);
  }

  /** One byte that is ASCII, or a raw byte ≥ 0x80 that is not part of a valid character. */
  #unit(b: number, raw: boolean): void {
    if (raw) {
      if (b <= 0x9f) return this.#c1(b, hex(b)); // 8-bit C1 control
      this.#abandon();
      return this.#emit(hex(b));
    }
    if (this.#state === ESC) this.#afterEsc(b);
    else if (this.#state === CSI) this.#inCsi(b);
    else this.#ground(b);
  }

  #ground(b: number): void {
    if (b === 0x1b) this.#state = ESC;
    else if ((b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d) this.#emitBytes([b]);
    else this.#emit(hex(b));
  }

  #afterEsc(b: number): void {
    if (b === 0x5b) {
      this.#state = CSI;
      this.#csiIntro = "\\x1b[";
      this.#csiBody = [];
    } else {
      this.#emit("\\x1b");
      this.#state = GROUND;
      this.#ground(b); // ESC ] (OSC), ESC P (DCS), ESC c (reset), ESC \\ (ST) …: the rest shows as text
    }
  }

  #inCsi(b: number): void {
    if (b >= 0x20 && b <= 0x3f) {
      this.#csiBody.push(b);
      if (this.#csiBody.length > CSI_MAX) this.#abandon();
      return;
    }
    if (b >= 0x40 && b <= 0x7e) {
      if (b === 0x6d && isSgrParams(this.#csiBody)) {
        this.#sgrSeen = true;
        this.#emitBytes([0x1b, 0x5b, ...this.#csiBody, 0x6d]);
        this.#state = GROUND;
      } else this.#toGround(`${this.#csiIntro}${String.fromCharCode(...this.#csiBody, b)}`);
      return;
    }
    this.#abandon();
    this.#ground(b); // a control inside a CSI ends our interest in it
  }

  /** A C1 control, shown as `shown`; CSI starts a sequence as ESC [ does (OSC, DCS, ST … are just shown). */
  #c1(c1: number, shown: string): void {
    this.#abandon();
    if (c1 === 0x9b) {
      this.#state = CSI;
      this.#csiIntro = shown;
      this.#csiBody = [];
    } else this.#emit(shown);
  }

  #toGround(shown: string): void {
    this.#emit(shown);
    this.#state = GROUND;
  }

  /** Shows a pending ESC or CSI as text and returns to ground. */
  #abandon(): void {
    if (this.#state === ESC) this.#toGround("\\x1b");
    else if (this.#state === CSI) this.#toGround(`${this.#csiIntro}${String.fromCharCode(...this.#csiBody)}`);
  }
}

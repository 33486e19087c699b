// What a scan or a keyboard gave us, before it goes to the server. The server decides what a
// code is (services.door.checkin.read_code takes a ticket URL or the bare code); here we only catch
// what cannot be a ticket, and a Chinese input method that swallowed a hand scanner's keys.

// A ticket URL is ~60 characters: anything this long is not one. Changes together with the
// server's MAX_SCAN (services/door/checkin.py), which must be at least this (tests/test_layout.py).
export const MAX_LENGTH = 512;
export const REPEAT_MS = 1500; // the same code again within this time is the same scan

// Chinese characters and CJK punctuation: an input method turned the keystrokes into words.
const IDEOGRAPHS = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
// Full-width letters and digits (Ａ, １): the input method's full-width mode, still readable.
const FULL_WIDTH = /[\uff01-\uff5e]/;
// Control characters: the Enter, tab or group separator some scanners add.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * {kind: "empty" | "overlong" | "ime" | "ok", text, fullWidth}.
 * `typed` is true for the field (keyboard or hand scanner): only there does Chinese text mean
 * a mangled scan; a camera reads what the QR holds and the server answers for it.
 */
export function inspect(raw, typed) {
  const text = String(raw == null ? "" : raw).replace(CONTROL, "").trim();
  if (!text) return { kind: "empty", text: "" };
  if (text.length > MAX_LENGTH) return { kind: "overlong", text: "" };
  if (typed && IDEOGRAPHS.test(text)) return { kind: "ime", text: "" };
  const fullWidth = FULL_WIDTH.test(text);
  return { kind: "ok", text: fullWidth ? text.normalize("NFKC") : text, fullWidth };
}

/** Drops the second of two identical scans that come within REPEAT_MS of each other. */
export class RepeatFilter {
  constructor(windowMs = REPEAT_MS) {
    this.windowMs = windowMs;
    this.last = "";
    this.seenAt = 0;
  }

  /** True when `code` is new. With `sticky`, a code that stays in view stays ignored. */
  accept(code, sticky = false, now = Date.now()) {
    const repeat = code === this.last && now - this.seenAt < this.windowMs;
    if (!repeat || sticky) this.seenAt = now;
    if (repeat) return false;
    this.last = code;
    return true;
  }

  /** Start the window again for the last code: after an answer, a QR still in view waits. */
  touch(now = Date.now()) {
    this.seenAt = now;
  }
}

// Checking a ticket code on the phone, with no network: the ticket list (GET …/door-list) carries
// no codes, only a verifier per ticket, v = HMAC-SHA256(key, normalised code) in hex, first 16
// characters, with a key of the list's own (per event and staff account). The phone computes the
// same for the code it read and looks v up. Reading a code is the server's, to the letter:
// services/door/checkin.read_code (a ticket URL …/t/<code> or the bare code, full-width letters
// forgiven) and services/registrations/codes.normalise_code (Crockford base32, O→0, I/L→1). A
// ticket registered by phone also has `sv`, the same verifier of its short door code.

export const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const CODE_LENGTH = 20;
const MAX_SCAN = 2000; // checkin.MAX_SCAN
const TICKET_PATH = /\/t\/([^/?#\s]+)/;
const LOOK_ALIKES = { O: "0", I: "1", L: "1" };

/** codes.normalise_code: the code as stored, or null. */
export function normaliseCode(raw) {
  if (!raw || raw.length > 200) return null;
  const value = raw.replace(/[\s-]/g, "").toUpperCase().replace(/[OIL]/g, (c) => LOOK_ALIKES[c]);
  if (value.length !== CODE_LENGTH) return null;
  for (const c of value) if (!CODE_ALPHABET.includes(c)) return null;
  return value;
}

/** checkin.read_code: the code in what a camera or a hand scanner read, or null. */
export function readCode(raw) {
  if (typeof raw !== "string" || !raw || raw.length > MAX_SCAN) return null;
  const text = raw.normalize("NFKC").trim();
  const found = TICKET_PATH.exec(text);
  return normaliseCode(found ? found[1] : text);
}

// A short door code (代报名: services/registrations/short_codes.py, to the letter): six digits and
// a check letter, the digits weighted 1 to 6, summed, modulo 23 into LETTERS (no I, O or S).
const SHORT_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ";
const SHORT_CODE = /^([0-9]{6})([A-Z])$/;

/** short_codes.check_letter */
export function checkLetter(digits) {
  let sum = 0;
  for (let i = 0; i < 6; i += 1) sum += Number(digits[i]) * (i + 1);
  return SHORT_LETTERS[sum % SHORT_LETTERS.length];
}

/** short_codes.normalise_short_code: "482 913 k", "４８２９１３Ｋ" → "482913K"; null when it is not
 * one or its check letter is wrong. */
export function normaliseShortCode(raw) {
  if (typeof raw !== "string" || raw.length > 40) return null;
  const text = raw.normalize("NFKC").replace(/[\s\-·.]/g, "").toUpperCase();
  const found = SHORT_CODE.exec(text);
  if (!found || checkLetter(found[1]) !== found[2]) return null;
  return text;
}

/** The key's bytes from the list's base64url (no padding). */
export function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** True where the browser can compute an HMAC (a secure page: https or localhost). */
export function canVerify() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

const imported = new Map(); // base64url key → CryptoKey

async function hmacKey(base64url) {
  let key = imported.get(base64url);
  if (!key) {
    key = await crypto.subtle.importKey("raw", keyBytes(base64url),
      { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    imported.clear(); // one list's key at a time is all a door needs
    imported.set(base64url, key);
  }
  return key;
}

/** v of a normalised code under the list's key: 16 lowercase hex characters. */
export async function verifier(base64url, code) {
  const key = await hmacKey(base64url);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(code)));
  return Array.from(mac.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

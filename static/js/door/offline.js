// The door by itself (issue 14): the scanner and the kiosk keep working when the network does
// not answer.
//
// - The ticket list: when the page opens an event it downloads GET …/door-list (every ticket of
//   the event with a verifier, never a code) into IndexedDB (store.js), then every 5 s only what
//   changed (?since=<cursor>).
// - Each scan goes to POST /checkins with a scan_id and waits at most 2500 ms. No answer (no
//   network, a timeout, a proxy's 5xx): the phone decides by itself from the list, with the
//   server's main rules (unknown, cancelled, not confirmed, another session, already in, admitted
//   with its people), and what let people in or out is queued with its time (scanned_at).
// - The queue drains by itself when the network is back (the online event, and a retry every
//   5 s): oldest first, at most 50 a request to POST /checkins/batch. A scan leaves the queue only
//   once the server answered it (recorded, repeated or invalid); its scan_id makes sending it
//   twice harmless. Conflicts the server found (the same family let in at two phones) are shown
//   to staff.
// Only what let people in or out is queued: a code the phone refused was refused at the door,
// and sending it later could let the server admit people who were turned away.

import { call } from "./api.js";
import { openStore } from "./store.js";
import { canVerify, normaliseShortCode, readCode, verifier } from "./verify.js";

export const SCAN_TIMEOUT_MS = 2500;
const TICK_MS = 5000;
const BATCH_SIZE = 50;
const ANSWERED = new Set(["recorded", "repeated", "invalid"]);

/** A scan's id: [A-Za-z0-9_-]{1,64}, unique on this phone. */
export function newScanId() {
  if (crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A sentence from the page's words with its %(name)s / %(name)d filled in. */
export function format(template, values) {
  return String(template || "").replace(/%\((\w+)\)[sd]/g, (whole, key) =>
    (key in values ? String(values[key]) : whole));
}

/** The server did not answer: no network, no answer in time, or a proxy's 5xx. */
function unanswered(result) {
  return result.status === 0 || result.status >= 500;
}

function localTime(ms) {
  const at = new Date(ms);
  return `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
}

export class OfflineDoor {
  constructor(config) {
    this.config = config;
    this.eventId = config.eventId;
    this.words = config.offline;
    this.text = config.text;
    this.online = navigator.onLine !== false;
    this.pending = 0;
    this.list = null; // {name, key, cursor, fetchedAt}
    this.listeners = [];
    this.timer = 0;
    this.busy = null;
    this.store = null;
    this.sent = new Map(); // scan_id → the admission the server made of it (for undo)
    this.ready = this.start();
  }

  onChange(listener) {
    this.listeners.push(listener);
    listener(this.state());
  }

  state() {
    return { online: this.online, pending: this.pending,
      listAge: this.list && this.list.fetchedAt ? Math.max(0, Date.now() - this.list.fetchedAt) : null,
      conflicts: this.conflicts || null };
  }

  emit() {
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }

  async start() {
    this.store = await openStore();
    this.list = await this.store.meta(`list:${this.eventId}`);
    this.pending = await this.store.pending();
    this.emit();
    window.addEventListener("online", () => {
      this.online = true;
      this.emit();
      this.tick();
    });
    window.addEventListener("offline", () => this.setOnline(false));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.tick();
    });
    setInterval(() => this.emit(), 1000); // the list's age counts on
    this.tick();
  }

  setOnline(answered) {
    // An answer that left before the phone lost its network is no sign of it: the browser's own
    // "offline" wins.
    const online = answered && navigator.onLine !== false;
    if (this.online === online) return;
    this.online = online;
    this.emit();
  }

  /** Send what waits, then fetch what changed in the list; again in 5 s while visible. */
  tick() {
    if (this.busy) return this.busy;
    clearTimeout(this.timer);
    this.busy = (async () => {
      try {
        await this.drain();
        await this.refreshList(); // also how the phone learns the network is back
      } catch {
        // IndexedDB or the network failed this once: the next tick tries again
      } finally {
        this.busy = null;
        this.timer = setTimeout(() => {
          if (!document.hidden) this.tick();
        }, TICK_MS);
      }
    })();
    return this.busy;
  }

  // --- the ticket list ------------------------------------------------------------------------

  async refreshList() {
    if (!this.store.ok) return;
    const url = new URL(this.config.urls.doorList, location.href);
    const since = this.list && this.list.cursor;
    if (since) url.searchParams.set("since", since);
    const result = await call("GET", url.href, undefined, { timeout: 20000 });
    if (unanswered(result)) {
      this.setOnline(false);
      return;
    }
    this.setOnline(true);
    const data = result.data;
    if (!result.ok || !data || !Array.isArray(data.tickets) || !data.key) {
      // A cursor the server no longer takes: the whole list next time.
      if (result.status === 422 && this.list) this.list.cursor = null;
      return;
    }
    if (since && data.key !== this.list.key) {
      // Another account signed in on this phone: its list has its own key, so start over.
      this.list = null;
      return this.refreshList();
    }
    const full = data.full !== false || !since;
    await this.store.saveTickets(this.eventId, data.tickets, full);
    this.list = { name: `list:${this.eventId}`, key: data.key, cursor: data.cursor,
      fetchedAt: Date.now(), serverTime: data.server_time };
    await this.store.setMeta(this.list);
    this.emit();
  }

  /** What an online answer says of a ticket, kept in the list at once. */
  async learn(ticket) {
    if (!this.store || !this.store.ok || !ticket || !ticket.ticket_id) return;
    if (ticket.event_id && ticket.event_id !== this.eventId) return;
    const old = await this.store.ticketById(this.eventId, ticket.ticket_id);
    if (!old) return;
    await this.store.putTicket({ ...old, status: ticket.status,
      admitted_people: ticket.admitted_people, party_size: ticket.party_size });
  }

  // --- one scan ---------------------------------------------------------------------------------

  /** POST /checkins, or the phone's own answer when the server does not answer in 2500 ms.
   * {result: like api.call's, offline: bool}. */
  async checkin(body) {
    await this.ready;
    const sent = { ...body, scan_id: newScanId() };
    const scannedAt = new Date().toISOString();
    const result = await call("POST", this.config.urls.checkin, sent,
      { timeout: SCAN_TIMEOUT_MS });
    if (!unanswered(result)) {
      this.setOnline(true);
      if (result.ok && result.data) this.learn(result.data.ticket).catch(() => {});
      return { result, offline: false };
    }
    this.setOnline(false);
    const data = await this.decide(sent, scannedAt);
    return { result: { ok: true, status: 200, data, offline: false }, offline: true };
  }

  /** A walk-in (+1, +N) or a walk-out (1 person left) when its endpoint does not answer:
   * queued, and the answer the page shows. */
  async queueCount(kind, payload) {
    await this.ready;
    const item = this.item(kind, payload, new Date().toISOString());
    item.people = payload.people || 1;
    const queued = await this.enqueue(item);
    return { queued, people: item.people, offline: true, scan_id: item.scan_id };
  }

  item(kind, body, scannedAt) {
    const item = { scan_id: body.scan_id || newScanId(), kind, event_id: this.eventId,
      scanned_at: scannedAt, offline: true };
    for (const key of ["session_id", "checkpoint_id", "people", "direction", "override"]) {
      if (body[key] != null && body[key] !== false) item[key] = body[key];
    }
    if (!item.session_id && this.config.sessionId) item.session_id = this.config.sessionId;
    if (!item.checkpoint_id && this.config.checkpointId) {
      item.checkpoint_id = this.config.checkpointId;
    }
    return item;
  }

  async enqueue(item) {
    const stored = { ...item, seq: Date.now() * 1000 + (this.seq = ((this.seq || 0) + 1) % 1000) };
    if (await this.store.enqueue(stored)) {
      this.pending = await this.store.pending();
      this.emit();
      return true;
    }
    return false;
  }

  /** The phone's answer to a scan, from the ticket list, shaped like the server's. */
  async decide(body, scannedAt) {
    const words = this.words;
    const answer = (result, ticket, message, extra = {}) => ({ result, ticket, message,
      admitted_people: 0, remaining_people: 0, previous: null, admission_id: null, reentry: false,
      exited_people: 0, offline: true, ...extra });
    if (!this.store.ok || !this.list || !this.list.key || !canVerify()) {
      return answer("unknown", null, words.no_list, { unchecked: true });
    }
    let record = null;
    if (body.ticket_id) {
      record = await this.store.ticketById(this.eventId, body.ticket_id);
    } else {
      const code = readCode(body.code);
      const short = code ? null : normaliseShortCode(body.code); // 代报名's door code
      if (code) {
        record = await this.store.ticketByV(this.eventId, await verifier(this.list.key, code));
        if (record && this.config.sessionId && record.session_id !== this.config.sessionId) {
          // A series pass (系列通票): its ticket of this session is listed under the pass's code
          // at the session (ticket_list.pass_verifier). None: the pass does not cover it.
          const member = await this.store.ticketByV(this.eventId,
            await verifier(this.list.key, `${code}@${this.config.sessionId}`));
          if (member) record = member;
        }
      } else if (short) {
        record = await this.store.ticketBySv(this.eventId, await verifier(this.list.key, short));
      }
    }
    if (!record) return answer("unknown", null, words.not_on_list);
    const local = record.local_people || 0;
    const inside = (record.admitted_people || 0) + local;
    const ticket = { ticket_id: record.ticket_id, name: record.name || "",
      phone_masked: record.phone_tail ? `****${record.phone_tail}` : "",
      party_size: record.party_size, status: record.status, event_id: this.eventId,
      session_id: record.session_id, admitted_people: inside,
      door_answers: record.door_answers || [] };
    const item = this.item("scan", body, scannedAt);
    item.ticket_id = record.ticket_id; // the code, the citizen's secret, is not kept
    if (body.direction === "out" || this.config.checkpointDirection === "out") {
      // Leaving (a cancelled ticket's people too): the server counts who really was inside
      // when the queue arrives.
      const people = Math.min(body.people || inside, inside);
      if (people > 0) await this.enqueue(item);
      return answer("exited", ticket, format(words.exited, { n: people }),
        { exited_people: people });
    }
    if (record.status === "cancelled") return answer("cancelled", ticket, words.cancelled);
    if (record.status !== "confirmed") {
      const status = this.text.statuses[record.status] || record.status;
      return answer("not_confirmed", ticket, format(words.not_confirmed, { status }));
    }
    if (this.config.sessionId && record.session_id !== this.config.sessionId) {
      return answer("wrong_session", ticket, words.wrong_session);
    }
    if (this.config.station) {
      // A station of a tour: one visit per ticket, the whole party (checkin._visit).
      const visited = record.local_visits || [];
      if (visited.includes(this.config.checkpointId)) {
        return answer("already_admitted", ticket, words.already);
      }
      if (!(await this.enqueue(item))) return answer("unknown", null, words.no_list, { unchecked: true });
      await this.store.putTicket({ ...record,
        local_visits: [...visited, this.config.checkpointId] });
      return answer("admitted", ticket, format(words.admit, { n: record.party_size }),
        { admitted_people: record.party_size });
    }
    const remaining = record.party_size - inside;
    if (remaining <= 0) {
      const message = record.local_at
        ? format(words.already_here, { time: localTime(record.local_at) })
        : words.already;
      return answer("already_admitted", ticket, message);
    }
    const people = Math.min(body.people || remaining, remaining);
    item.local = { people }; // what this phone counted; not sent
    if (!(await this.enqueue(item))) return answer("unknown", null, words.no_list, { unchecked: true });
    await this.store.putTicket({ ...record, local_people: local + people, local_at: Date.now() });
    ticket.admitted_people = inside + people;
    const left = remaining - people;
    return answer("admitted", ticket, left ? format(words.admit_some, { n: people, left })
      : format(words.admit, { n: people }),
      { admitted_people: people, remaining_people: left, scan_id: item.scan_id });
  }

  /** Undo a scan decided here: out of the queue while it waits ({withdrawn: true}), else the
   * admission the server made of it ({admissionId}), else {} (not known on this page). */
  async withdraw(scanId) {
    const item = await this.store.take(scanId);
    if (item) {
      if (item.ticket_id && item.local) {
        const record = await this.store.ticketById(this.eventId, item.ticket_id);
        if (record) {
          await this.store.putTicket({ ...record, local_at: null,
            local_people: Math.max(0, (record.local_people || 0) - item.local.people) });
        }
      }
      this.pending = await this.store.pending();
      this.emit();
      return { withdrawn: true };
    }
    return this.sent.has(scanId) ? { admissionId: this.sent.get(scanId) } : {};
  }

  /** The tickets of the phone's list a search finds: the phone number's last four digits, or a
   * name that fits the list's masked one (王*明: the first and last characters, 王*: two). */
  async search(query) {
    await this.ready;
    const q = String(query || "").trim();
    if (!this.store.ok || q.length < 2) return [];
    const byPhone = /^\d{4}$/.test(q);
    const chars = Array.from(q);
    const fits = (masked) => {
      const m = Array.from(masked || "");
      if (!m.length || m[0] !== chars[0]) return false;
      return m.length >= 3 ? chars.length >= 3 && chars.at(-1) === m.at(-1) : chars.length === 2;
    };
    const found = (await this.store.ticketsOf(this.eventId)).filter((record) =>
      (!this.config.sessionId || record.session_id === this.config.sessionId)
      && (byPhone ? record.phone_tail === q : fits(record.name)));
    return found.slice(0, 20).map((record) => ({ ticket_id: record.ticket_id,
      name: record.name, phone_masked: record.phone_tail ? `****${record.phone_tail}` : "",
      party_size: record.party_size, status: record.status, session_id: record.session_id,
      admitted_people: (record.admitted_people || 0) + (record.local_people || 0) }));
  }

  // --- the queue ----------------------------------------------------------------------------

  /** Send the waiting scans, oldest first, 50 at a time. True when the server answered. */
  async drain() {
    if (!this.store.ok) return false;
    const notes = [];
    let answeredAny = false;
    for (;;) {
      const items = await this.store.oldest(BATCH_SIZE);
      if (!items.length) break;
      const scans = items.map(({ seq, local, ...item }) => item);
      const result = await call("POST", this.config.urls.batch, { scans }, { timeout: 30000 });
      if (unanswered(result)) {
        this.setOnline(false);
        break;
      }
      this.setOnline(true);
      const results = result.ok && result.data && Array.isArray(result.data.results)
        ? result.data.results : [];
      const done = results.filter((r) => r && ANSWERED.has(r.status)).map((r) => r.scan_id);
      if (!done.length) break; // refused as a whole (signed out?): kept for the next try
      answeredAny = true;
      await this.settle(items, results);
      await this.store.dequeue(done);
      for (const r of results) {
        if (r.conflict || r.status === "invalid") notes.push(r);
      }
      if (done.length < items.length) break;
    }
    this.pending = await this.store.pending();
    if (notes.length) this.conflicts = { at: Date.now(), notes };
    this.emit();
    return answeredAny;
  }

  /** The server has counted these scans: the list's count takes them over from the phone's. */
  async settle(items, results) {
    const byId = new Map(results.map((r) => [r.scan_id, r]));
    for (const item of items) {
      const answer = byId.get(item.scan_id);
      if (answer && answer.answer && answer.answer.admission_id) {
        this.sent.set(item.scan_id, answer.answer.admission_id);
      }
      if (!answer || !ANSWERED.has(answer.status) || item.kind !== "scan" || !item.ticket_id) {
        continue;
      }
      const record = await this.store.ticketById(this.eventId, item.ticket_id);
      if (!record || !record.local_people) continue;
      const server = answer.answer && answer.answer.ticket;
      const counted = item.local ? item.local.people : record.local_people;
      await this.store.putTicket({ ...record,
        local_people: Math.max(0, record.local_people - counted),
        admitted_people: server && Number.isInteger(server.admitted_people)
          ? server.admitted_people : record.admitted_people + (answer.conflict ? 0 : counted) });
    }
  }
}

/** The always visible line on the door page: 在线/离线 · 待同步 N · 名单更新于 N 秒前. */
export class StatusBar {
  constructor(root, words) {
    this.root = root;
    this.words = words;
    this.parts = {};
    for (const el of root.querySelectorAll("[data-net]")) this.parts[el.dataset.net] = el;
    this.shownConflicts = 0;
  }

  render(state) {
    const { parts, words } = this;
    this.root.hidden = false;
    this.root.dataset.state = state.online ? "online" : "offline";
    this.root.dataset.pending = state.pending > 0 ? "yes" : "no";
    parts.state.textContent = state.online ? words.online : words.offline;
    parts.pending.textContent = format(words.pending, { n: state.pending });
    parts.list.textContent = listAge(words, state.listAge);
    const note = parts.note;
    if (note && state.conflicts && state.conflicts.at !== this.shownConflicts) {
      this.shownConflicts = state.conflicts.at;
      const { notes } = state.conflicts;
      const title = document.createElement("strong");
      title.textContent = format(words.conflicts, { n: notes.length });
      const list = document.createElement("ul");
      list.append(...notes.slice(0, 5).map((r) => {
        const li = document.createElement("li");
        const ticket = r.answer && r.answer.ticket;
        li.textContent = [ticket && ticket.name, r.message || r.conflict || r.status]
          .filter(Boolean).join(" · ");
        return li;
      }));
      note.replaceChildren(title, list);
      note.hidden = false;
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => { note.hidden = true; }, 20000);
    }
  }
}

export function listAge(words, ms) {
  if (ms == null) return words.no_list_short;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return format(words.age_s, { n: seconds });
  if (seconds < 3600) return format(words.age_min, { n: Math.floor(seconds / 60) });
  return format(words.age_h, { n: Math.floor(seconds / 3600) });
}

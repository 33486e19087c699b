// The full-screen answer: colour, icon, big words and the party, with a sound and a buzz, then
// back to scanning by itself. What each API result looks like lives here and nowhere else.

const DISMISS_MS = 2500;
// One tone per result of services/door/checkin.py's Result, the same as the no-JavaScript page's
// (qmevents/door/answers.py TONES): a result added there is added here (tests/test_layout.py).
const TONES = {
  admitted: "ok",
  already_admitted: "warn",
  not_confirmed: "wait",
  unknown: "bad",
  cancelled: "bad",
  wrong_event: "bad",
  wrong_session: "bad",
  wrong_day: "bad",
  not_yet_open: "wait",
  exited: "ok",
  over_capacity: "bad",
};
// A good ticket refused only for the time (services.door.checkin.OVERRIDABLE): staff may admit it.
const OVERRIDABLE = new Set(["wrong_day", "not_yet_open", "over_capacity"]);

/** "3人" / "3 people", from the page's two templates. */
export function people(text, n) {
  return (n === 1 ? text.person : text.people).replace("%(num)s", String(n));
}

/** The overlay's content for an answer of POST /checkins. The service's message says the rest:
 * what to do, or when, where and by whom the ticket was let in before. */
export function viewOf(answer, text) {
  const result = answer.result in TONES ? answer.result : "unknown";
  const ticket = answer.ticket || null;
  const view = { tone: TONES[result], title: text.results[result], count: "", lines: [], result,
    answer };
  if (ticket) {
    const who = [ticket.name, ticket.phone_masked].filter(Boolean).join("  ");
    if (who) view.lines.push(who);
  }
  // The answers the organiser shows at the door (身份证后四位…), to check against the person.
  view.doorAnswers = doorAnswers(ticket);
  if (result === "admitted") {
    // The count is the news; the party only when some are still to come.
    view.count = people(text, answer.admitted_people || 0);
    if (ticket && answer.remaining_people > 0) view.lines.push(partyLine(answer, ticket, text));
    if (answer.reentry && answer.message) view.lines.push(answer.message);
  } else if (result === "exited" && answer.exited_people) {
    view.count = people(text, answer.exited_people);
    view.lines.push(answer.message);
  } else if (answer.message) {
    view.lines.push(answer.message);
  }
  view.canOverride = OVERRIDABLE.has(result) && Boolean(ticket && ticket.ticket_id);
  return view;
}

/** [{label, value}] of a ticket's answers shown at the door; none for another event's. */
export function doorAnswers(ticket) {
  if (!ticket || !Array.isArray(ticket.door_answers)) return [];
  return ticket.door_answers
    .filter((a) => a && typeof a.label === "string" && typeof a.value === "string")
    .map((a) => ({ label: a.label, value: a.value }));
}

/** The door answers as a definition list (text only: they are what a citizen typed). */
export function doorAnswersList(answers) {
  const list = document.createElement("dl");
  list.className = "answer-door";
  for (const { label, value } of answers) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  return list;
}

function partyLine(answer, ticket, text) {
  return text.party
    .replace("%(inside)s", String(ticket.admitted_people || 0))
    .replace("%(total)s", people(text, ticket.party_size || 0))
    .replace("%(remaining)s", String(Math.max(answer.remaining_people || 0, 0)));
}

/**
 * A beep and a buzz per tone; silent where the browser offers neither. The sound is made ready
 * before the first answer: the audio context is created with the page and started on the
 * first touch, tap or key (opening the camera, a hand scanner's first key), with a silent
 * sound to wake the output, so the first scan beeps at once instead of ~180 ms late.
 */
export class Feedback {
  constructor() {
    this.audio = null;
    this.context();
    const unlock = () => this.warm();
    for (const type of ["pointerdown", "touchstart", "keydown", "click"]) {
      window.addEventListener(type, unlock, { once: true, capture: true, passive: true });
    }
  }

  context() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    try {
      if (!this.audio) this.audio = new Context({ latencyHint: "interactive" });
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;
    }
    return this.audio;
  }

  /** In a user gesture: start the context and play a silent instant, so the output is on. */
  warm() {
    const audio = this.context();
    if (!audio) return;
    try {
      const silence = audio.createBuffer(1, 1, audio.sampleRate);
      const source = audio.createBufferSource();
      source.buffer = silence;
      source.connect(audio.destination);
      source.start(0);
    } catch {
      // an old in-app browser: the first answer starts it instead
    }
  }

  /** Whether the sound is ready now (tests and the kiosk's self-check read it). */
  get ready() {
    return Boolean(this.audio && this.audio.state === "running");
  }

  play(tone) {
    const patterns = {
      ok: { beeps: [[1046, 0, 0.12]], buzz: [60] },
      warn: { beeps: [[660, 0, 0.12], [660, 0.18, 0.12]], buzz: [60, 80, 60] },
      wait: { beeps: [[520, 0, 0.2]], buzz: [120] },
      bad: { beeps: [[220, 0, 0.45]], buzz: [300, 100, 300] },
    };
    const { beeps, buzz } = patterns[tone] || patterns.bad;
    try {
      if (navigator.vibrate) navigator.vibrate(buzz);
    } catch {
      // some in-app browsers throw instead of ignoring
    }
    const audio = this.context();
    if (!audio) return;
    if (audio.state !== "running") {  // not started by a gesture yet: now, if it may
      const asked = performance.now();
      audio.resume().then(() => {
        if (performance.now() - asked < 400) this.beep(audio, tone, beeps); // never a stale one
      }).catch(() => {});
      return;
    }
    this.beep(audio, tone, beeps);
  }

  beep(audio, tone, beeps) {
    for (const [frequency, start, length] of beeps) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = tone === "bad" ? "square" : "sine";
      oscillator.frequency.value = frequency;
      const t = audio.currentTime + start;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.3, t + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + length);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(t);
      oscillator.stop(t + length + 0.02);
    }
  }
}

/** The full-screen overlay element of the page, driven by views from viewOf(). */
export class Overlay {
  constructor(root, text, { onClose, onFewer, onOverride }) {
    this.root = root;
    this.text = text;
    this.onClose = onClose;
    this.onFewer = onFewer;
    this.onOverride = onOverride;
    this.timer = 0;
    this.view = null;
    this.feedback = new Feedback();
    this.parts = {};
    for (const el of root.querySelectorAll("[data-part]")) this.parts[el.dataset.part] = el;
    root.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=fewer]")) {
        event.stopPropagation();
        this.hold();
        this.onFewer(this.view);
        return;
      }
      if (event.target.closest("[data-action=override]")) {
        event.stopPropagation();
        const view = this.view;
        this.close();
        this.onOverride(view);
        return;
      }
      if (event.target.closest("[data-keep-open]")) {
        this.hold();
        return;
      }
      this.close();
    });
    document.addEventListener("keydown", (event) => {
      if (this.isOpen && event.key === "Escape") this.close();
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  show(view, { sound = true, stay = false } = {}) {
    this.view = view;
    const { parts } = this;
    this.root.className = `door-answer tone-${view.tone}`;
    parts.title.textContent = view.title;
    parts.count.textContent = view.count || "";
    parts.count.hidden = !view.count;
    parts.lines.replaceChildren(...view.lines.map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }));
    if (view.doorAnswers && view.doorAnswers.length) {
      parts.lines.append(doorAnswersList(view.doorAnswers));
    }
    parts.extra.replaceChildren();
    parts.fewer.hidden = !view.canFewer;
    // Decided on this phone, not yet by the server: a small mark for staff, no alarm.
    if (parts.offline) parts.offline.hidden = !view.offline;
    parts.override.hidden = !view.canOverride;
    this.root.hidden = false;
    if (sound) this.feedback.play(view.tone);
    clearTimeout(this.timer);
    if (!stay) this.timer = setTimeout(() => this.close(), DISMISS_MS);
  }

  /** Keep the answer on screen: the staff member is choosing something in it. */
  hold() {
    clearTimeout(this.timer);
  }

  close() {
    clearTimeout(this.timer);
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.view = null;
    this.onClose();
  }
}

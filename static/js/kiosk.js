// Self check-in (templates/door/kiosk.html): a tablet at the entrance, facing the visitors. Its
// camera reads a ticket and admits the whole party by itself; the answer fills the screen. Any
// answer but "admitted" calls staff: a different sound, and the screen stays until a staff member
// holds the button. Visitors never see a name, a phone number or who scanned before: only the
// party's size, or that staff are coming. Staff leave the mode by holding a button too.
// Without an answer from the server the tablet decides by itself and queues the scan, as the
// scanner does (door/offline.js); a small line for staff says so.

import { failure } from "./door/api.js";
import { Feedback, people } from "./door/answer.js";
import { Camera } from "./door/camera.js";
import { inspect, RepeatFilter } from "./door/codes.js";
import { OfflineDoor, StatusBar } from "./door/offline.js";

const config = JSON.parse(document.getElementById("door-config").textContent);
const text = config.text;
const words = config.kiosk;
const $ = (selector) => document.querySelector(selector);
const HOLD_MS = 900; // a press this long is staff, not a visitor's tap
const WELCOME_MS = 3000;
const CALL_AGAIN_MS = 6000; // the call for staff sounds again until someone comes
// Refusals whose reason says nothing about anyone: the session's time, another session.
const TIME_RESULTS = new Set(["wrong_day", "not_yet_open", "wrong_session"]);

/** A press held for HOLD_MS runs `action`; a tap does nothing. */
function onHold(button, action) {
  let timer = 0;
  const cancel = () => {
    clearTimeout(timer);
    button.classList.remove("holding");
  };
  button.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    button.classList.add("holding");
    timer = setTimeout(() => {
      cancel();
      action();
    }, HOLD_MS);
  });
  for (const name of ["pointerup", "pointerleave", "pointercancel"]) {
    button.addEventListener(name, cancel);
  }
  button.addEventListener("contextmenu", (event) => event.preventDefault());
}

class Kiosk {
  constructor() {
    this.answer = $("#kiosk-answer");
    this.parts = {};
    for (const el of this.answer.querySelectorAll("[data-part]")) this.parts[el.dataset.part] = el;
    this.field = $("#kiosk-code");
    this.feedback = new Feedback();
    // One per source, as on the scanner: a ticket held up to the camera stays ignored while it
    // is in view; the hand scanner's same code twice within a moment is one scan.
    this.cameraRepeats = new RepeatFilter();
    this.fieldRepeats = new RepeatFilter();
    this.busy = false;
    this.timer = 0;
    this.offline = new OfflineDoor(config);
    const bar = new StatusBar($("#kiosk-net"), config.offline);
    this.offline.onChange((state) => {
      bar.render(state);
      // Visitors need not read it: shown only while something is not as it should be.
      bar.root.hidden = state.online && state.pending === 0;
    });
    this.camera = new Camera($("#kiosk-video"), {
      vendorUrl: new URL(config.urls.vendor, location.href).href,
      text,
      onCode: (code) => this.check(code, false),
      onState: (_state, message) => {
        $("#kiosk-camera").textContent = message === text.camera_on ? "" : message || "";
      },
    });
    $("#kiosk-go").addEventListener("click", () => this.start());
    $("#kiosk-code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = this.field.value;
      this.field.value = "";
      this.check(value, true);
    });
    onHold($("#kiosk-leave"), () => {
      location.href = config.urls.scanner;
    });
    onHold(this.parts.done, () => this.close());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.started) this.keepAwake();
    });
  }

  start() {
    this.started = true;
    $("#kiosk-start").hidden = true;
    $("#kiosk-scan").hidden = false;
    this.feedback.context(); // the tap that started the kiosk lets it sound from now on
    document.documentElement.requestFullscreen?.().catch(() => {});
    this.keepAwake();
    this.camera.start();
    if (!matchMedia("(pointer: coarse)").matches) this.field.focus();
  }

  keepAwake() {
    navigator.wakeLock?.request("screen").catch(() => {});
  }

  async check(raw, typed) {
    if (this.busy || !this.answer.hidden) return;
    const scan = inspect(raw, typed);
    if (scan.kind === "empty") return;
    const repeats = typed ? this.fieldRepeats : this.cameraRepeats;
    if (!repeats.accept(scan.text || raw, !typed)) return;
    if (scan.kind !== "ok") {
      this.callStaff(words.not_a_ticket);
      return;
    }
    this.busy = true;
    this.camera.pause();
    const body = { code: scan.text, event_id: config.eventId };
    if (config.sessionId) body.session_id = config.sessionId;
    if (config.checkpointId) body.checkpoint_id = config.checkpointId;
    const { result, offline } = await this.offline.checkin(body);
    this.busy = false;
    const data = result.data || {};
    if (result.ok && data.result === "admitted") this.welcome(data);
    else if (result.ok && data.unchecked) this.callStaff(data.message);
    else if (result.ok && data.result) this.callStaff(this.reason(data));
    else this.callStaff(failure(result, text));
    this.parts.offline.hidden = !offline;
  }

  /** What staff read on the screen: the kind of refusal, and the reason when it names nobody. */
  reason(data) {
    const title = text.results[data.result] || text.results.unknown;
    return TIME_RESULTS.has(data.result) && data.message ? `${title}: ${data.message}` : title;
  }

  welcome(data) {
    this.show("ok", words.welcome, people(text, data.admitted_people || 0), words.go_in, "");
    this.timer = setTimeout(() => this.close(), WELCOME_MS);
  }

  callStaff(detail) {
    this.show("staff", words.wait, "", words.staff_coming, detail);
    this.parts.done.hidden = false;
    this.timer = setInterval(() => this.feedback.play("bad"), CALL_AGAIN_MS);
  }

  show(tone, title, count, line, staff) {
    const { parts } = this;
    this.answer.className = `kiosk-answer tone-${tone}`;
    parts.title.textContent = title;
    parts.count.textContent = count;
    parts.line.textContent = line;
    parts.staff.textContent = staff;
    parts.done.hidden = true;
    parts.offline.hidden = true;
    this.answer.hidden = false;
    this.feedback.play(tone === "ok" ? "ok" : "bad");
  }

  close() {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.answer.hidden = true;
    this.cameraRepeats.touch(); // the ticket still in front of the camera is the one answered
    this.camera.resume();
    if (!matchMedia("(pointer: coarse)").matches) this.field.focus();
  }
}

// The page's one Kiosk; tests wait for it to know the page is ready.
window.qmKiosk = new Kiosk();

// The door page (templates/door/scan.html): the camera, a hand scanner or the keyboard, a photo,
// or a search give a code; POST /api/v1/checkins answers; the answer fills the screen, then the
// page goes back to scanning. The page's settings and words come from its JSON config block.
// Without this script the page still admits typed codes through its plain form. When the server
// does not answer, the phone decides by itself and queues the scan (door/offline.js); the line at
// the top says so, with what waits to be sent and the age of the ticket list.

import { call, failure, fill } from "./door/api.js";
import { Overlay, people, viewOf } from "./door/answer.js";
import { Camera } from "./door/camera.js";
import { inspect, RepeatFilter } from "./door/codes.js";
import { getDetector, readPhoto } from "./door/decoder.js";
import { OfflineDoor, StatusBar } from "./door/offline.js";
import { Figures, Search, Tallies, WalkIns } from "./door/panels.js";

const config = JSON.parse(document.getElementById("door-config").textContent);
const text = config.text;
const vendorUrl = new URL(config.urls.vendor, location.href).href;
const $ = (selector) => document.querySelector(selector);

class Door {
  constructor() {
    this.form = $("#door-code-form");
    this.field = $("#door-code");
    this.status = $("#door-status");
    this.queue = Promise.resolve();
    // A hand scanner or keyboard was used last: give the field its focus back after answers.
    // After a camera scan it stays unfocused, so a phone's keyboard does not cover the view.
    this.fieldInUse = false;
    this.fieldRepeats = new RepeatFilter();
    this.cameraRepeats = new RepeatFilter();
    this.last = null; // {id, scanId, at, label} of the last admission, for "undo"
    this.overlay = new Overlay($("#door-answer"), text, {
      onClose: () => this.afterAnswer(),
      onFewer: (view) => this.offerFewer(view),
      onOverride: (view) => (view.walkIn
        ? this.walkIns.admit({ ...view.walkIn, override: true })
        : this.submitTicket(view.answer.ticket.ticket_id, "override", 0, true)),
    });
    this.figures = new Figures($("#door-figures"), config.urls.attendance, text);
    this.tallies = new Tallies($("#door-tallies"), config, text, this.figures);
    this.offline = new OfflineDoor(config);
    this.bar = new StatusBar($("#door-net"), config.offline);
    this.pending = 0;
    this.offline.onChange((state) => {
      this.bar.render(state);
      // Scans just sent: the figures count them now.
      if (state.pending < this.pending) this.figures.refresh();
      this.pending = state.pending;
    });
    this.walkIns = new WalkIns($("#door-walkins"), config, text, (answer) => this.showWalkIn(answer),
      this.offline);
    this.search = new Search($("#door-search"), config, text,
      (ticketId, count) => this.submitTicket(ticketId, "search", count), this.offline);
    this.camera = new Camera($("#door-video"), {
      vendorUrl,
      text,
      onCode: (code) => this.fromCamera(code),
      onState: (state, message) => this.cameraState(state, message),
    });
    this.undoButton = $("#door-undo");
    this.wire();
    // A desk with a hand scanner types into the field at once; a phone keeps its keyboard down
    // so the camera's view stays clear (no autofocus in the page either).
    if (!matchMedia("(pointer: coarse)").matches) this.field.focus({ preventScroll: true });
  }

  wire() {
    for (const el of document.querySelectorAll("[data-needs-js]")) el.hidden = false;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = this.field.value;
      this.field.value = "";
      this.submit(value, "field");
    });
    $("#door-camera-toggle").addEventListener("click", () => {
      if (this.camera.running) this.camera.stop(true);
      else this.camera.start();
    });
    $("#door-photo").addEventListener("change", (event) => this.fromPhoto(event.target));
    // A hand scanner's keys go through a Chinese input method as pinyin: say so at once.
    this.field.addEventListener("compositionstart", () => this.say(text.ime));
    this.undoButton.addEventListener("click", () => this.undo());
    $("[data-walk-out]").addEventListener("click", () => this.walkOut());
    // Switching in/out: the ticket just let in may be the next to leave, so forget repeats.
    for (const way of document.querySelectorAll('input[name="direction"]')) {
      way.addEventListener("change", () => {
        this.fieldRepeats = new RepeatFilter();
        this.cameraRepeats = new RepeatFilter();
      });
    }
    this.figures.start();
    this.camera.start();
    // A phone with no camera stream still benefits from a decoder that is ready for photos.
    getDetector(vendorUrl).catch(() => {});
  }

  say(message) {
    this.status.textContent = message || "";
  }

  cameraState(state, message) {
    const box = $("#door-camera");
    box.dataset.state = state;
    $("#door-camera-message").textContent = message || "";
    $("#door-camera-toggle").textContent = state === "off" ? text.camera_start : text.camera_stop;
  }

  fromCamera(raw) {
    if (this.overlay.isOpen) return;
    if (!this.cameraRepeats.accept(raw, true)) return;
    this.camera.pause();
    this.submit(raw, "camera").then(() => {
      if (!this.overlay.isOpen) this.camera.resume(); // nothing to show: keep scanning
    });
  }

  async fromPhoto(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    this.say(text.photo_reading);
    let code = null;
    try {
      const { detector } = await getDetector(vendorUrl);
      code = await readPhoto(detector, file);
    } catch {
      code = null;
    }
    this.say("");
    if (!code) {
      this.showLocal("bad", text.no_qr_title, text.no_qr);
      return;
    }
    this.submit(code, "photo");
  }

  /** Check one code in turn: answers come back in the order the codes were given. */
  submit(raw, source, count) {
    this.queue = this.queue.then(() => this.redeem(raw, source, count)).catch(() => {});
    return this.queue;
  }

  /** A ticket the door knows by its id (a search, an earlier answer): never by its code, which
   * is the citizen's secret. `override`: admit it although its session is not open now. */
  submitTicket(ticketId, source, count, override = false) {
    this.queue = this.queue
      .then(() => this.send({ ticket_id: ticketId }, source, count, override))
      .catch(() => {});
    return this.queue;
  }

  async redeem(raw, source, count) {
    if (source === "field") this.fieldInUse = true;
    if (source === "camera" || source === "photo") this.fieldInUse = false;
    const scan = inspect(raw, source === "field");
    if (scan.kind === "empty") {
      this.say(text.type_a_code);
      return;
    }
    if (scan.kind === "overlong") return this.showLocal("bad", text.not_a_code, text.overlong);
    if (scan.kind === "ime") return this.showLocal("bad", text.not_read, text.ime);
    if (source === "field" && !this.fieldRepeats.accept(scan.text)) return;
    await this.send({ code: scan.text }, source, count, false, scan.fullWidth);
  }

  async send(ticket, source, count, override = false, fullWidth = false) {
    this.say("");
    const body = { ...ticket, event_id: config.eventId };
    if (config.sessionId) body.session_id = config.sessionId;
    if (config.checkpointId) body.checkpoint_id = config.checkpointId;
    if (count) body.people = count;
    if (override) body.override = true;
    // At a gate counting both ways, the switch says which way (services/door/occupancy.py).
    const way = document.querySelector('input[name="direction"]:checked');
    if (way && way.value === "out") body.direction = "out";
    const { result, offline } = await this.offline.checkin(body);
    if (!result.ok || !result.data || !result.data.result) {
      this.showFailure(result);
      return;
    }
    if (result.data.unchecked) {
      // No ticket list on this phone and no network: nothing can be checked, nothing was kept.
      this.showLocal("wait", config.offline.unchecked, result.data.message);
      return;
    }
    result.data.overridden = override; // "admit fewer" after an override overrides again
    const view = viewOf(result.data, text);
    view.offline = offline;
    if (fullWidth) view.lines.push(text.full_width);
    if (result.data.result === "admitted") {
      this.remember(result.data);
      view.canFewer = (result.data.admitted_people || 0) > 1 && Boolean(result.data.admission_id);
    }
    // A refusal staff may override stays on screen until they choose.
    this.overlay.show(view, { stay: view.canOverride });
    this.figures.refresh();
  }

  showFailure(result) {
    if (result.status === 422) {
      this.showLocal("bad", text.results.unknown, failure(result, text));
    } else if (result.status === 401 || result.status === 403) {
      this.showLocal("bad", text.not_recorded, failure(result, text), true);
    } else {
      this.showLocal("wait", text.not_recorded, failure(result, text));
    }
  }

  showLocal(tone, title, line, stay = false) {
    this.overlay.show({ tone, title, count: "", lines: [line] }, { stay });
  }

  /** "1 人离场": one person without a scanned ticket left; never below zero inside. */
  async walkOut() {
    const body = { people: 1 };
    if (config.sessionId) body.session_id = config.sessionId;
    if (config.checkpointId) body.checkpoint_id = config.checkpointId;
    const result = await call("POST", config.urls.walkOuts, body);
    if (result.ok && result.data) {
      this.overlay.show({ tone: "ok", title: text.walked_out, count: people(text, 1), lines: [] });
    } else if ((result.status === 0 || result.status >= 500)
               && (await this.offline.queueCount("walk_out", body)).queued) {
      this.overlay.show({ tone: "ok", title: text.walked_out, count: people(text, 1), lines: [],
        offline: true });
    } else {
      this.showLocal("warn", text.walk_out_refused, failure(result, text));
    }
    this.figures.refresh();
  }

  showWalkIn(answer) {
    if (answer.result && answer.result !== "admitted") {
      // Refused at the safety cap: the answer says so; staff may admit anyway (recorded).
      const view = viewOf(answer, text);
      view.walkIn = answer.request;
      view.canOverride = answer.result === "over_capacity" && Boolean(answer.request);
      this.overlay.show(view, { stay: view.canOverride });
      this.figures.refresh();
      return;
    }
    const count = answer.admitted_people || answer.people || 0;
    this.remember({ ...answer, admitted_people: count });
    this.overlay.show({ tone: "ok", title: text.walk_in_admitted,
      count: people(text, count), lines: answer.name ? [answer.name] : [],
      offline: Boolean(answer.offline) });
    this.figures.refresh();
  }

  afterAnswer() {
    this.cameraRepeats.touch(); // a QR still in front of the camera is the one just answered
    this.camera.resume();
    if (this.fieldInUse || !matchMedia("(pointer: coarse)").matches) {
      this.field.focus({ preventScroll: true });
    }
  }

  // --- admitting fewer, and undoing ------------------------------------------------------

  offerFewer(view) {
    const answer = view.answer;
    const most = (answer.admitted_people || 1) - 1;
    let chosen = most;
    const box = document.createElement("div");
    box.className = "fewer";
    box.dataset.keepOpen = "";
    box.innerHTML = `<p class="fewer-label"></p>
      <div class="stepper"><button type="button" class="step" data-step="-1">−1</button>
      <output class="step-value"></output>
      <button type="button" class="step" data-step="1">+1</button></div>
      <button type="button" class="button primary fewer-confirm"></button>`;
    const output = box.querySelector("output");
    const confirm = box.querySelector(".fewer-confirm");
    box.querySelector(".fewer-label").textContent = text.fewer_label;
    const render = () => {
      output.textContent = people(text, chosen);
      confirm.textContent = text.fewer_confirm.replace("%(people)s", people(text, chosen));
      for (const step of box.querySelectorAll("[data-step]")) {
        const next = chosen + Number(step.dataset.step);
        step.disabled = next < 1 || next > most;
      }
    };
    box.addEventListener("click", (event) => {
      const step = event.target.closest("[data-step]");
      if (step) {
        chosen = Math.min(most, Math.max(1, chosen + Number(step.dataset.step)));
        render();
      }
    });
    confirm.addEventListener("click", () => {
      confirm.disabled = true;
      this.readmit(answer, chosen);
    });
    render();
    this.overlay.parts.fewer.hidden = true;
    this.overlay.parts.extra.replaceChildren(box);
  }

  /** Admit fewer than the scan did: the admission is undone and made again for `count`, so
   * the database keeps one admission with the right number. */
  async readmit(answer, count) {
    const undone = await call("POST", fill(config.urls.undo, { id: answer.admission_id }));
    if (!undone.ok) {
      this.showFailure(undone);
      return;
    }
    this.last = null;
    this.updateUndo();
    await this.send({ ticket_id: answer.ticket.ticket_id }, "fewer", count, answer.overridden);
  }

  remember(answer) {
    // Decided on this phone: undone by its scan_id (taken out of the queue, or by the admission
    // the server made of it once sent).
    const scanId = answer.offline ? answer.scan_id : null;
    if (!answer.admission_id && !scanId) return;
    const name = answer.ticket ? answer.ticket.name : answer.name;
    const label = [name, people(text, answer.admitted_people || 0)].filter(Boolean).join(" · ");
    this.last = { id: answer.admission_id, scanId, at: Date.now(), label };
    this.updateUndo();
    clearTimeout(this.undoTimer);
    this.undoTimer = setTimeout(() => this.updateUndo(), config.undoSeconds * 1000 + 50);
  }

  updateUndo() {
    const live = this.last && Date.now() - this.last.at < config.undoSeconds * 1000;
    this.undoButton.disabled = !live;
    $("#door-undo-what").textContent = live ? this.last.label : "";
  }

  async undo() {
    if (!this.last) return;
    const { scanId, label } = this.last;
    let { id } = this.last;
    this.undoButton.disabled = true;
    if (scanId) {
      const withdrawn = await this.offline.withdraw(scanId);
      if (withdrawn.withdrawn) {
        this.last = null;
        this.showLocal("wait", text.undone, label);
        this.updateUndo();
        return;
      }
      id = withdrawn.admissionId;
    }
    const result = id ? await call("POST", fill(config.urls.undo, { id }))
      : { ok: false, status: 0, data: null, offline: true };
    if (result.ok) {
      this.last = null;
      this.showLocal("wait", text.undone, label);
    } else {
      this.showLocal("bad", text.not_undone, failure(result, text));
    }
    this.updateUndo();
    this.figures.refresh();
  }
}

// The page's one Door; tests wait for it to know the page is ready.
window.qmDoor = new Door();

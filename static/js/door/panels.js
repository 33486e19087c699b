// The door page's other panels: live figures (polled), tally buttons, walk-ins and the search
// for a citizen without their phone. Each owns its part of the page, found by id in scan.html.

import { call, failure, fill } from "./api.js";
import { people } from "./answer.js";

const POLL_MS = 5000;

/** The live figures: GET attendance every 5 s while the page is visible, and after actions. */
export class Figures {
  constructor(root, url, text) {
    this.root = root;
    this.url = url;
    this.text = text;
    this.listeners = [];
    this.timer = 0;
    this.inFlight = null;
  }

  start() {
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.refresh();
    });
    this.refresh();
  }

  onUpdate(listener) {
    this.listeners.push(listener);
  }

  refresh() {
    if (this.inFlight) {
      // An action just happened: the answer on its way may predate it, so ask once more.
      this.again = true;
      return this.inFlight;
    }
    clearTimeout(this.timer);
    this.again = false;
    this.inFlight = call("GET", this.url).then((result) => {
      this.inFlight = null;
      if (result.ok && result.data) this.render(result.data);
      if (this.again) {
        this.refresh();
        return;
      }
      this.root.dataset.stale = result.ok ? "false" : "true";
      this.timer = setTimeout(() => {
        if (!document.hidden) this.refresh();
        else this.timer = 0;
      }, POLL_MS);
    });
    return this.inFlight;
  }

  render(figures) {
    for (const el of this.root.querySelectorAll("[data-figure]")) {
      const value = figures[el.dataset.figure];
      if (value != null) el.textContent = String(value);
    }
    // Inside now and the safety cap (services/door/occupancy.py): the cap when there is one.
    const cap = this.root.querySelector("[data-cap]");
    if (cap) cap.hidden = !figures.safety_cap;
    if (figures.cap_state) this.root.dataset.capState = figures.cap_state;
    const list = this.root.querySelector("[data-checkpoints]");
    if (list && Array.isArray(figures.checkpoints) && figures.checkpoints.length > 1) {
      list.replaceChildren(...figures.checkpoints.map((point) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = point.name;
        const count = document.createElement("strong");
        count.textContent = people(this.text, point.people);
        count.dataset.checkpointId = point.id;
        item.append(name, " ", count);
        return item;
      }));
      list.hidden = false;
    }
    for (const listener of this.listeners) listener(figures);
  }
}

/** One big button per tally (+1) with a small −1; counts follow the figures. */
export class Tallies {
  constructor(root, config, text, figures) {
    this.root = root;
    this.config = config;
    this.text = text;
    this.message = root.querySelector("[data-tally-message]");
    root.hidden = root.querySelector("[data-tally-list]").children.length === 0;
    figures.onUpdate((data) => this.render(data.tallies || []));
    root.addEventListener("click", (event) => {
      const button = event.target.closest("[data-bump]");
      if (button) this.bump(button);
    });
  }

  render(tallies) {
    const list = this.root.querySelector("[data-tally-list]");
    for (const tally of tallies) {
      let item = list.querySelector(`[data-tally-id="${CSS.escape(String(tally.id))}"]`);
      if (!item) {
        item = this.build(tally);
        list.append(item);
      }
      item.querySelector("[data-tally-count]").textContent = String(tally.count);
    }
    this.root.hidden = tallies.length === 0 && list.children.length === 0;
  }

  build(tally) {
    const template = this.root.querySelector("template");
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.tallyId = tally.id;
    item.querySelector("[data-tally-name]").textContent = tally.name;
    for (const button of item.querySelectorAll("[data-bump]")) button.dataset.tallyId = tally.id;
    return item;
  }

  async bump(button) {
    const by = Number(button.dataset.bump);
    const item = button.closest("[data-tally-id]");
    button.disabled = true;
    const url = fill(this.config.urls.bump, { id: item.dataset.tallyId });
    const result = await call("POST", url, { by });
    button.disabled = false;
    if (result.ok && result.data) {
      item.querySelector("[data-tally-count]").textContent = String(result.data.count);
      item.classList.remove("bumped");
      void item.offsetWidth; // restart the flash
      item.classList.add("bumped");
      this.message.textContent = "";
    } else {
      this.message.textContent = failure(result, this.text);
    }
  }
}

/** Walk-ins: +1, +N and a named walk-in (name and phone optional). */
export class WalkIns {
  constructor(root, config, text, onAdmitted, offline = null) {
    this.root = root;
    this.offline = offline; // door/offline.js: +1 and +N are queued when the server is away
    this.config = config;
    this.text = text;
    this.onAdmitted = onAdmitted;
    this.count = 2;
    this.output = root.querySelector("[data-walkin-count]");
    this.message = root.querySelector("[data-walkin-message]");
    this.named = root.querySelector("form");
    root.addEventListener("click", (event) => {
      const step = event.target.closest("[data-walkin-step]");
      if (step) this.step(Number(step.dataset.walkinStep));
      const quick = event.target.closest("[data-walkin]");
      if (quick) this.admit({ people: quick.dataset.walkin === "n" ? this.count : 1 });
    });
    this.named.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(this.named);
      const body = { people: Number(data.get("people")) || 1 };
      for (const key of ["name", "phone"]) {
        const value = String(data.get(key) || "").trim();
        if (value) body[key] = value;
      }
      this.admit(body, this.named);
    });
    this.step(0);
  }

  step(by) {
    this.count = Math.min(this.config.maxWalkIn, Math.max(2, this.count + by));
    this.output.textContent = people(this.text, this.count);
    this.root.querySelector("[data-walkin=n]").textContent = this.text.admit_people
      .replace("%(people)s", people(this.text, this.count));
    for (const button of this.root.querySelectorAll("[data-walkin-step]")) {
      const next = this.count + Number(button.dataset.walkinStep);
      button.disabled = next < 2 || next > this.config.maxWalkIn;
    }
  }

  async admit(body, form) {
    const payload = { ...body };
    if (this.config.sessionId) payload.session_id = this.config.sessionId;
    const result = await call("POST", this.config.urls.walkIns, payload);
    if ((result.status === 0 || result.status >= 500) && this.offline) {
      if (body.name || body.phone) {
        this.message.textContent = this.config.offline.named_offline;
        return;
      }
      const queued = await this.offline.queueCount("walk_in", payload);
      if (queued.queued) {
        this.message.textContent = "";
        this.onAdmitted({ admitted_people: body.people, people: body.people, name: "",
          offline: true, scan_id: queued.scan_id });
        return;
      }
    }
    if (!result.ok) {
      this.message.textContent = failure(result, this.text);
      return;
    }
    this.message.textContent = "";
    if (form) form.reset();
    this.onAdmitted({ ...(result.data || {}), people: body.people, name: body.name || "",
      request: body });
  }
}

/** Search by name or the last four digits of the phone; each match has its admit button. */
export class Search {
  constructor(root, config, text, admit, offline = null) {
    this.root = root;
    this.offline = offline; // door/offline.js: without a network, the phone's ticket list
    this.config = config;
    this.text = text;
    this.admit = admit;
    this.form = root.querySelector("form");
    this.list = root.querySelector("[data-search-results]");
    this.message = root.querySelector("[data-search-message]");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.find(new FormData(this.form).get("q"));
    });
    this.list.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-admit]");
      if (!button) return;
      const item = button.closest("li");
      button.disabled = true;
      await this.admit(Number(button.dataset.admit), Number(item.dataset.chosen));
      this.find(new FormData(this.form).get("q"));
    });
  }

  async find(query) {
    const q = String(query || "").trim();
    if (q.length < 2) {
      this.message.textContent = this.text.search_short;
      this.list.replaceChildren();
      return;
    }
    const url = new URL(this.config.urls.search, location.href);
    url.searchParams.set("q", q);
    if (this.config.sessionId) url.searchParams.set("session_id", this.config.sessionId);
    const result = await call("GET", url.href);
    if ((result.status === 0 || result.status >= 500) && this.offline) {
      // No network: the phone's list, by the phone's last four digits or the masked name.
      const tickets = await this.offline.search(q);
      this.message.textContent = tickets.length ? "" : this.text.search_none;
      this.list.replaceChildren(...tickets.map((ticket) => this.item(ticket)));
      return;
    }
    if (!result.ok || !result.data) {
      this.message.textContent = failure(result, this.text);
      return;
    }
    const tickets = result.data.tickets || [];
    this.message.textContent = tickets.length ? "" : this.text.search_none;
    this.list.replaceChildren(...tickets.map((ticket) => this.item(ticket)));
  }

  item(ticket) {
    const template = this.root.querySelector("template");
    const item = template.content.firstElementChild.cloneNode(true);
    const remaining = Math.max((ticket.party_size || 0) - (ticket.admitted_people || 0), 0);
    item.querySelector("[data-name]").textContent = ticket.name || "—";
    item.querySelector("[data-phone]").textContent = ticket.phone_masked || "";
    item.querySelector("[data-party]").textContent = this.text.party
      .replace("%(inside)s", String(ticket.admitted_people || 0))
      .replace("%(total)s", people(this.text, ticket.party_size || 0))
      .replace("%(remaining)s", String(remaining));
    item.querySelector("[data-status]").textContent = this.text.statuses[ticket.status] || "";
    const admit = item.querySelector("[data-admit]");
    const stepper = item.querySelector(".stepper");
    const canAdmit = remaining > 0 && ticket.status === "confirmed";
    admit.hidden = !canAdmit;
    stepper.hidden = !canAdmit || remaining < 2;
    admit.dataset.admit = String(ticket.ticket_id); // never the code: the citizen's secret
    let chosen = remaining;
    const render = () => {
      item.dataset.chosen = String(chosen);
      admit.textContent = this.text.admit_people.replace("%(people)s", people(this.text, chosen));
      stepper.querySelector("output").textContent = String(chosen);
      for (const step of stepper.querySelectorAll("[data-step]")) {
        const next = chosen + Number(step.dataset.step);
        step.disabled = next < 1 || next > remaining;
      }
    };
    stepper.addEventListener("click", (event) => {
      const step = event.target.closest("[data-step]");
      if (!step) return;
      chosen = Math.min(remaining, Math.max(1, chosen + Number(step.dataset.step)));
      render();
    });
    render();
    return item;
  }
}

// What the door keeps on the phone, in IndexedDB database "qm-door" (names fixed by the offline
// door's contract, docs/DOOR-OFFLINE.md):
//   tickets  the ticket list of each event: key [event_id, ticket_id], index "v" on [event_id, v]
//            and (version 2) "sv" on [event_id, sv], a short door code's verifier (代报名)
//   queue    scans decided on the phone and not yet answered by the server: key scan_id, index
//            "seq" (the order they happened in: sent oldest first)
//   meta     one record per name: "list:<event_id>" holds the list's key, cursor and age
// Every function resolves; a browser without IndexedDB (some private modes) gets a Store whose
// `ok` is false, and the door then works online only.

const NAME = "qm-door";
const VERSION = 2;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
    tx.onerror = () => reject(tx.error);
  });
}

export async function openStore() {
  if (!globalThis.indexedDB) return new Store(null);
  try {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        const tickets = db.createObjectStore("tickets", { keyPath: ["event_id", "ticket_id"] });
        tickets.createIndex("v", ["event_id", "v"]);
        const queue = db.createObjectStore("queue", { keyPath: "scan_id" });
        queue.createIndex("seq", "seq");
        db.createObjectStore("meta", { keyPath: "name" });
      }
      if (event.oldVersion < 2) {
        // Version 2: a short door code's verifier (代报名). Lists kept before have no `sv`, so
        // their cursors are dropped: the next download is the whole list, while the list kept
        // still answers ticket codes.
        request.transaction.objectStore("tickets").createIndex("sv", ["event_id", "sv"]);
        if (event.oldVersion >= 1) {
          request.transaction.objectStore("meta").openCursor().onsuccess = (found) => {
            const cursor = found.target.result;
            if (!cursor) return;
            cursor.update({ ...cursor.value, cursor: null });
            cursor.continue();
          };
        }
      }
    };
    return new Store(await promised(request));
  } catch {
    return new Store(null);
  }
}

export class Store {
  constructor(db) {
    this.db = db;
    this.ok = Boolean(db);
  }

  async run(stores, mode, work) {
    const tx = this.db.transaction(stores, mode);
    work(tx);
    await done(tx);
  }

  // --- meta ---------------------------------------------------------------------------------

  async meta(name) {
    if (!this.ok) return null;
    return (await promised(this.db.transaction("meta").objectStore("meta").get(name))) || null;
  }

  async setMeta(record) {
    if (!this.ok) return;
    await this.run("meta", "readwrite", (tx) => tx.objectStore("meta").put(record));
  }

  // --- tickets ------------------------------------------------------------------------------

  /** Upsert the list's tickets of an event (a full list first drops the event's old ones). */
  async saveTickets(eventId, tickets, full) {
    if (!this.ok) return;
    await this.run("tickets", "readwrite", (tx) => {
      const store = tx.objectStore("tickets");
      if (full) store.delete(IDBKeyRange.bound([eventId, -Infinity], [eventId, Infinity]));
      for (const ticket of tickets) {
        store.get([eventId, ticket.ticket_id]).onsuccess = (event) => {
          const old = event.target.result;
          const record = { ...ticket, event_id: eventId };
          // What this phone let in offline and the server has not counted yet stays counted.
          if (old) {
            for (const key of ["local_people", "local_at", "local_visits"]) {
              if (old[key]) record[key] = old[key];
            }
          }
          store.put(record);
        };
      }
    });
  }

  async ticketByV(eventId, v) {
    if (!this.ok) return null;
    const index = this.db.transaction("tickets").objectStore("tickets").index("v");
    return (await promised(index.get([eventId, v]))) || null;
  }

  async ticketBySv(eventId, sv) {
    if (!this.ok) return null;
    const index = this.db.transaction("tickets").objectStore("tickets").index("sv");
    return (await promised(index.get([eventId, sv]))) || null;
  }

  async ticketById(eventId, ticketId) {
    if (!this.ok) return null;
    const store = this.db.transaction("tickets").objectStore("tickets");
    return (await promised(store.get([eventId, ticketId]))) || null;
  }

  async putTicket(record) {
    if (!this.ok) return;
    await this.run("tickets", "readwrite", (tx) => tx.objectStore("tickets").put(record));
  }

  async ticketsOf(eventId) {
    if (!this.ok) return [];
    const store = this.db.transaction("tickets").objectStore("tickets");
    return promised(store.getAll(IDBKeyRange.bound([eventId, -Infinity], [eventId, Infinity])));
  }

  async countTickets(eventId) {
    if (!this.ok) return 0;
    const store = this.db.transaction("tickets").objectStore("tickets");
    return promised(store.count(IDBKeyRange.bound([eventId, -Infinity], [eventId, Infinity])));
  }

  // --- queue --------------------------------------------------------------------------------

  async enqueue(item) {
    if (!this.ok) return false;
    await this.run("queue", "readwrite", (tx) => tx.objectStore("queue").put(item));
    return true;
  }

  /** The `limit` oldest scans waiting for the server. */
  async oldest(limit) {
    if (!this.ok) return [];
    const index = this.db.transaction("queue").objectStore("queue").index("seq");
    return promised(index.getAll(null, limit));
  }

  async dequeue(scanIds) {
    if (!this.ok || !scanIds.length) return;
    await this.run("queue", "readwrite", (tx) => {
      const store = tx.objectStore("queue");
      for (const id of scanIds) store.delete(id);
    });
  }

  /** The queued scan `scanId`, taken out of the queue (null when it is no longer there). */
  async take(scanId) {
    if (!this.ok) return null;
    let item = null;
    await this.run("queue", "readwrite", (tx) => {
      const store = tx.objectStore("queue");
      store.get(scanId).onsuccess = (event) => {
        item = event.target.result || null;
        if (item) store.delete(scanId);
      };
    });
    return item;
  }

  async pending() {
    if (!this.ok) return 0;
    return promised(this.db.transaction("queue").objectStore("queue").count());
  }
}

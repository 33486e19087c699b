// The door's service worker, served as /door/sw.js (qmevents/door/app.py) with its scope /door/
// and, on its first line, `self.QM_DOOR = {version, precache, offlineTitle, offlineText}`.
//
// - Installing it caches what the scanner needs to open and scan with no network at all: its
//   scripts, styles, the QR decoder with its WebAssembly, the icons (`precache`). The version is
//   a hash of those files, so a deploy that changes one installs a fresh cache and drops the old.
//   They are cached under their plain names; a page names them with a hash in the name
//   (css/site.3f2a9b1c0d.css, qmevents/staticfiles.py), found here under the plain name whatever
//   the hash, so a page kept from before a deploy still opens with its styles and scripts.
// - Door pages (/door/…) are fetched from the network first; a page that answered is kept, and
//   with no answer within NETWORK_MS the kept copy opens instead (the same session's scanner, or
//   the scanner last opened for that event). The page's words come with it: they are in the page.
// - Nothing else is touched: API calls, POSTs and other pages go to the network as they are. The
//   door's scripts decide what to do when a scan gets no answer (static/js/door/).

const { version, precache, offlineTitle, offlineText } = self.QM_DOOR;
const STATIC_CACHE = `qm-door-static-${version}`;
const PAGE_CACHE = "qm-door-pages";
const NETWORK_MS = 3000;
// The hash in a static file's name: the same form as NAME in qmevents/staticfiles.py.
const FINGERPRINT = /\.[0-9a-f]{10}(\.[^./]+)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => cache.addAll(precache.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith("qm-door-static-") && name !== STATIC_CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const plain = plainPath(url.pathname);
  if (request.mode === "navigate" && isDoorPage(url)) {
    event.respondWith(doorPage(request, url));
  } else if (precache.includes(plain)) {
    event.respondWith(caches.match(plain).then((hit) => hit || fetch(request)));
  }
});

/** "/static/css/door.3f2a9b1c0d.css" → "/static/css/door.css"; a plain path stays as it is. */
function plainPath(pathname) {
  return pathname.replace(FINGERPRINT, "$1");
}

function isDoorPage(url) {
  const scope = new URL(self.registration.scope).pathname;
  return url.pathname.startsWith(scope) && !url.pathname.startsWith(`${scope}pair/`);
}

/** The page from the network when it answers in time (kept for later), else the kept copy. */
async function doorPage(request, url) {
  const cache = await caches.open(PAGE_CACHE);
  try {
    const response = await fetchWithin(request, NETWORK_MS);
    // Only a page itself is kept: not a redirect to the sign-in page, not an error.
    if (response.ok && !response.redirected) {
      await cache.put(request, response.clone());
      await cache.put(eventKey(url), response.clone());
    }
    return response;
  } catch {
    const kept = (await cache.match(request)) || (await cache.match(eventKey(url)));
    return kept || offlinePage();
  }
}

/** The last scanner opened for an event, whatever its session or checkpoint: a phone offline
 * that asks for another session of the same event still gets a scanner. */
function eventKey(url) {
  return new URL(url.pathname, url.origin).href;
}

function fetchWithin(request, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    fetch(request).then(
      (response) => { clearTimeout(timer); resolve(response); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

function offlinePage() {
  const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(offlineTitle)}</title>
<main><h1>${escape(offlineTitle)}</h1><p>${escape(offlineText)}</p></main>`;
  return new Response(body, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

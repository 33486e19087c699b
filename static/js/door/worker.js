// Registers the door's service worker (/door/sw.js, qmevents/door/app.py), which keeps the door
// page, its scripts and its decoder on the phone so the scanner opens with no network. Loaded by
// every door page (templates/door/_app_head.html); a browser without service workers, or a page
// not served over HTTPS or from localhost, simply goes on without.

const meta = document.querySelector('meta[name="qm-door-worker"]');

export const ready = (async () => {
  if (!meta || !("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(meta.content, { scope: meta.dataset.scope });
  } catch {
    return null;
  }
})();

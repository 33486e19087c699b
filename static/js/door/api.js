// The door page talks to /api/v1 as the signed-in staff member: the session cookie plus the
// page's CSRF token in X-CSRFToken. Calls never throw: a lost connection, a timeout or a page
// that is not JSON come back as {ok: false}, so the scanning loop keeps running whatever happens.

const TIMEOUT_MS = 8000;

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** {ok, status, data, offline} for one JSON request; `timeout` in ms (a scan waits 2500 ms, then
 * the door decides by itself: static/js/door/offline.js). */
export async function call(method, url, body, { timeout = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok, status: response.status, data, offline: false };
  } catch {
    return { ok: false, status: 0, data: null, offline: true };
  } finally {
    clearTimeout(timer);
  }
}

/** A URL template from the page's config with its {placeholders} filled in. */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(values[key]));
}

/** The API's message for a failed call, or the page's own words for it. */
export function failure(result, text) {
  if (result.offline) return text.offline;
  if (result.status === 401) return text.signed_out;
  if (result.status === 403) return text.forbidden;
  const data = result.data || {};
  if (data.message) return data.message;
  if (data.errors) return Object.values(data.errors).join(" ");
  return text.server_error;
}

// Fetches from the daemon's API with the tab's token (sessionStorage only,
// sent as Authorization, never a cookie).

const KEY = 'kpiwatch.token';

export function token() {
  try { return sessionStorage.getItem(KEY) || ''; } catch { return ''; }
}
export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage refused: the token is not kept */ }
}

export function headers(extra = {}) {
  const h = { Accept: 'application/json', ...extra };
  const tk = token();
  if (tk) h.Authorization = `Bearer ${tk}`;
  return h;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function parse(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    const e = body && body.error;
    throw new ApiError(res.status, e && e.code, (e && e.message) || `HTTP ${res.status}`);
  }
  return body;
}

export async function get(path) {
  return parse(await fetch(path, { headers: headers(), cache: 'no-store', credentials: 'omit' }));
}

export async function send(method, path, body) {
  const init = { method, headers: headers({ 'Content-Type': 'application/json' }), credentials: 'omit' };
  if (body !== undefined) init.body = JSON.stringify(body);
  return parse(await fetch(path, init));
}

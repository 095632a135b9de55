// The HTTP API client: every call carries the bearer token the user logged in with.
// The console has no other way to read or change anything.

const KEY = 'rolecall.token';

/** An API error: the server's `error.code` and `error.message`, or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(t) {
  sessionStorage.setItem(KEY, t);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};

/** Called when a token stops being accepted (revoked while the page is open). */
export function whenUnauthorized(f) {
  onUnauthorized = f;
}

async function send(method, path, body, secret) {
  const headers = { Authorization: `Bearer ${secret ?? token() ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server did not answer. Is rolecall still running?');
  }
}

async function failure(res) {
  const text = await res.text();
  let message = null;
  let code = 'http_' + res.status;
  try {
    const data = JSON.parse(text);
    if (data && data.error && typeof data.error.message === 'string') {
      message = data.error.message;
      code = data.error.code || code;
    }
  } catch {
    // not JSON: fall through to a sentence
  }
  if (!message) message = `The server answered ${res.status} ${res.statusText || ''}`.trim() + '.';
  return new ApiError(res.status, code, message);
}

/**
 * Calls the API and returns the parsed JSON answer; throws ApiError with the server's
 * message otherwise. `opts.token` uses another token (the login check).
 */
export async function api(method, path, body, opts = {}) {
  const res = await send(method, path, body, opts.token);
  if (!res.ok) {
    const err = await failure(res);
    if (err.status === 401 && !opts.token) onUnauthorized(err);
    throw err;
  }
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** The raw text of a GET (exports). */
export async function apiText(path) {
  const res = await send('GET', path);
  if (!res.ok) throw await failure(res);
  return { text: await res.text(), type: res.headers.get('content-type') || 'text/plain' };
}

/** `/v1/tenants/{tenant}` + rest. */
export function tpath(tenant, rest = '') {
  return `/v1/tenants/${encodeURIComponent(tenant)}${rest}`;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

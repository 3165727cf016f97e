// The admin HTTP API client: same origin, the API key as a bearer
// credential. The key lives in sessionStorage only (never a cookie,
// local storage or a URL), so it is gone when the tab closes or on Sign out.

const KEY = 'tokenservice.apiKey';

/** The API's root: the console is served at <root>/console/. */
const root = new URL('../', document.baseURI);

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** An error the API answered, with its product error code and message. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Listeners told when the API refuses the key (it was rotated elsewhere, say). */
const unauthorized = new Set();
export function onUnauthorized(fn) { unauthorized.add(fn); }

/**
 * request calls the API. path is relative to the API root ("admin/users");
 * query's empty values are left out. It answers the decoded JSON body
 * (null for 204), the raw text if `text` is set, or throws an APIError.
 */
export async function request(method, path, { body, query, key = session.key(), text = false } = {}) {
  const url = new URL(path, root);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== '' && value !== null && value !== undefined) url.searchParams.set(name, String(value));
  }
  const headers = { Accept: text ? 'text/csv' : 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new APIError(0, 'network_error', 'The API could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  const raw = await res.text();
  if (res.ok) return text ? raw : JSON.parse(raw);
  let code = 'http_' + res.status;
  let message = `The API answered ${res.status}.`;
  try {
    const e = JSON.parse(raw).error;
    if (e?.code) code = e.code;
    if (e?.message) message = e.message;
  } catch { /* not the product's error body: keep the generic sentence */ }
  const err = new APIError(res.status, code, message);
  if (res.status === 401 && key && key === session.key()) {
    unauthorized.forEach((fn) => fn(err));
  }
  throw err;
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, body) => request('POST', path, { body: body ?? {} });
export const patch = (path, body) => request('PATCH', path, { body });
export const put = (path, body) => request('PUT', path, { body });
export const del = (path) => request('DELETE', path);

/** Path-escapes one segment. */
export const seg = (s) => encodeURIComponent(s);

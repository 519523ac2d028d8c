// Talks to the agent's API. The token comes from the URL fragment
// (#token=..., never sent to the server) or the token bar, and lives in
// sessionStorage only.
const TOKEN_KEY = 'bwalloc-token';

export function takeTokenFromFragment() {
  const match = location.hash.match(/token=([0-9a-fA-F]+)/);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value.trim()); }

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function parse(response) {
  let body = {};
  try { body = await response.json(); } catch { /* non-JSON error page */ }
  if (!response.ok || body.ok === false) throw new ApiError(response.status, body.error || response.statusText);
  return body;
}

export async function get(path) {
  return parse(await fetch(path, { headers: { Accept: 'application/json' } }));
}

export async function post(path, payload = {}) {
  return parse(await fetch(path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Authorization': `Bearer ${token()}`,
      'X-Requested-With': 'bwalloc',
    },
    body: JSON.stringify(payload),
  }));
}

/**
 * REST: the few calls the SDK makes over HTTP (docs/rest.md): register, log in (a token), log out
 * (revoke it). Failures become WebIMErrors: the server's error when it sent one, else
 * WEBIM_CONNCTION_AJAX_ERROR.
 */
import { clientCodes, clientError, fromWire } from './errors';

/** Where and how to call: the REST base and the fetch to use (default the global fetch). */
export interface RestConfig {
  apiUrl?: string;
  fetch?: typeof fetch;
}

/** The reply of POST /api/v1/token. */
export interface TokenReply {
  access_token: string;
  /** The token's lifetime in seconds. */
  expires_in?: number;
  user?: string;
}

/** rest calls method path with an optional JSON body and bearer token, and returns the JSON reply (undefined when empty). */
export async function rest<T>(cfg: RestConfig, method: string, path: string, body?: unknown, token?: string): Promise<T | undefined> {
  if (!cfg.apiUrl) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'no apiUrl: pass apiUrl (or url) to new WebIM.connection');
  const f = cfg.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
  if (!f) throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, 'no fetch: pass fetch to new WebIM.connection');
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await f(cfg.apiUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, `${method} ${path}: ${String(err)}`, { cause: err });
  }
  const text = await res.text().catch(() => '');
  let json: { error?: { code?: number; name?: string; message?: string } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (json?.error) throw fromWire(json.error, { status: res.status });
    throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, `${method} ${path}: HTTP ${res.status}`, { status: res.status });
  }
  return json as T | undefined;
}

/** register creates an account and returns its username as the server spelled it, if it said. */
export async function register(cfg: RestConfig, username: string, password: string): Promise<string | undefined> {
  const r = await rest<{ username?: string }>(cfg, 'POST', '/api/v1/users', { username, password });
  return r?.username;
}

/** login exchanges a username and password for an access token. */
export async function login(cfg: RestConfig, username: string, password: string): Promise<TokenReply> {
  return (await rest<TokenReply>(cfg, 'POST', '/api/v1/token', { username, password })) as TokenReply;
}

/** revoke revokes an access token. */
export async function revoke(cfg: RestConfig, token: string): Promise<void> {
  await rest(cfg, 'DELETE', '/api/v1/token', undefined, token);
}

/**
 * Endpoints: the WebSocket and REST URLs of a connection, from its options and the page it runs on.
 */

/** The parts of `location` that resolveUrls reads. */
export interface PageLocation {
  protocol?: string;
  origin?: string;
  host?: string;
}

function stripSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** resolveUrls works out the WebSocket and REST endpoints from the options and the page. */
export function resolveUrls(opts: { url?: string; apiUrl?: string }, loc?: PageLocation): {
  wsUrl?: string;
  apiUrl?: string;
} {
  const page = loc ?? (globalThis as { location?: PageLocation }).location;
  const pageHttp = page && page.protocol && /^https?:$/.test(page.protocol) ? page : undefined;
  const secure = pageHttp ? pageHttp.protocol === 'https:' : true;
  const abs = (u: string, scheme: 'ws' | 'http') => (u.startsWith('//') ? `${scheme}${secure ? 's' : ''}:${u}` : u);
  let wsUrl: string | undefined;
  let apiUrl: string | undefined;
  if (opts.url) {
    let u = abs(stripSlash(opts.url), 'ws');
    if (/^https?:/i.test(u)) u = u.replace(/^http/i, 'ws');
    if (/^wss?:\/\/[^/]+$/i.test(u)) u += '/ws';
    else if (!/^wss?:/i.test(u)) u = `ws${secure ? 's' : ''}://${u.replace(/^\/+/, '')}${/\/ws$/.test(u) ? '' : '/ws'}`;
    wsUrl = u;
  } else if (pageHttp?.host) {
    wsUrl = `${secure ? 'wss' : 'ws'}://${pageHttp.host}/ws`;
  }
  if (opts.apiUrl) apiUrl = stripSlash(abs(opts.apiUrl, 'http'));
  else if (opts.url) apiUrl = wsUrl!.replace(/^ws/i, 'http').replace(/\/ws$/, '');
  else if (pageHttp?.origin) apiUrl = pageHttp.origin;
  return { wsUrl, apiUrl };
}

/**
 * Pure helpers: names, keys, labels and error text. No SDK, no DOM; unit-tested.
 */

export type ChatType = 'singleChat' | 'groupChat';

/** A conversation key: `g:<groupId>` or `u:<username>`. */
export function convKey(chatType: ChatType, target: string): string {
  return (chatType === 'groupChat' ? 'g:' : 'u:') + target;
}

/** parseKey splits a conversation key; undefined if it is not one. */
export function parseKey(key: string): { chatType: ChatType; target: string } | undefined {
  const m = /^([gu]):(.+)$/.exec(key);
  if (!m) return undefined;
  return { chatType: m[1] === 'g' ? 'groupChat' : 'singleChat', target: m[2] };
}

/** The location hash of a conversation, and back. */
export function keyToHash(key: string | null): string {
  const p = key ? parseKey(key) : undefined;
  if (!p) return '#/';
  return `#/${p.chatType === 'groupChat' ? 'group' : 'chat'}/${encodeURIComponent(p.target)}`;
}

export function hashToKey(hash: string): string | null {
  const m = /^#\/(group|chat)\/(.+)$/.exec(hash);
  if (!m) return null;
  let target: string;
  try {
    target = decodeURIComponent(m[2]);
  } catch {
    return null;
  }
  return convKey(m[1] === 'group' ? 'groupChat' : 'singleChat', target);
}

/** seen's username rule (docs/protocol.md): lower case a-z 0-9 _ - ., 1-64 characters. */
export const usernamePattern = '[a-z0-9_.\\-]{1,64}';

/** usernameProblem says what is wrong with a username, or '' if nothing. */
export function usernameProblem(name: string): string {
  if (!name) return 'Enter a username.';
  if (name.length > 64) return 'A username has at most 64 characters.';
  if (!new RegExp(`^${usernamePattern}$`).test(name)) return 'Use only lower-case letters, digits, and _ - . in a username.';
  return '';
}

/** parseUsernames splits "bob, carol dave" into distinct lower-case names. */
export function parseUsernames(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    const n = part.trim().toLowerCase().replace(/^@/, '');
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * receiptLabel is the line under a receipt-requesting message: readers out of eligible readers.
 * eligible is undefined while it is not known yet.
 */
export function receiptLabel(read: number, eligible: number | undefined): string {
  if (eligible === undefined) return read === 1 ? 'Read by 1' : `Read by ${read}`;
  if (eligible === 0) return 'No one to read it yet';
  if (read >= eligible) return 'Read by all';
  return `Read by ${read} of ${eligible}`;
}

/** compareIds orders 64-bit decimal ids (strings) numerically. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** byTime orders messages oldest first, by time then id. */
export function byTime(a: { time: number; id: string }, b: { time: number; id: string }): number {
  return a.time - b.time || compareIds(a.id, b.id);
}

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** clock is "14:05". */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** shortTime is a clock time today, else a short date and time. */
export function shortTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return clock(ms);
  const month = d.toLocaleString('en', { month: 'short' });
  const sameYear = d.getFullYear() === n.getFullYear();
  return `${d.getDate()} ${month}${sameYear ? '' : ' ' + d.getFullYear()}, ${clock(ms)}`;
}

/** fullTime is for title attributes: an unambiguous local date and time. */
export function fullTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}:${pad(d.getSeconds())}`;
}

/** The SDK's error codes the demo tells apart, by WebIM.statusCode name. */
const codeNames = {
  timeout: 'REQUEST_TIMEOUT',
  param: 'REQUEST_PARAMETER_ERROR',
  abort: 'REQUEST_ABORT',
  disconnected: 'WEBIM_CONNCTION_DISCONNECTED',
  ajax: 'WEBIM_CONNCTION_AJAX_ERROR',
  closed: 'WEBIM_CONNECTION_CLOSED',
  badRequest: 'BAD_REQUEST',
  unauthorized: 'UNAUTHORIZED',
  tokenExpired: 'TOKEN_EXPIRED',
  registrationClosed: 'REGISTRATION_CLOSED',
  userExists: 'USER_EXISTS',
  userNotFound: 'USER_NOT_FOUND',
  permissionDenied: 'PERMISSION_DENIED',
  groupNotFound: 'GROUP_NOT_FOUND',
  notMember: 'NOT_MEMBER',
  alreadyMember: 'ALREADY_MEMBER',
  groupFull: 'GROUP_FULL',
  tooLarge: 'TOO_LARGE',
  rateLimited: 'RATE_LIMITED',
  limitExceeded: 'LIMIT_EXCEEDED',
  notAllowed: 'NOT_ALLOWED',
  unavailable: 'UNAVAILABLE',
} as const;

/**
 * The numbers of those codes: the SDK's table (sdk/README.md) as defaults, replaced at start by
 * the loaded SDK's own WebIM.statusCode (bindCodes), so the two cannot drift.
 */
export const codes: Record<keyof typeof codeNames, number> = {
  timeout: -1,
  param: -3,
  abort: -4,
  disconnected: 16,
  ajax: 17,
  closed: 39,
  badRequest: 110,
  unauthorized: 202,
  tokenExpired: 108,
  registrationClosed: 208,
  userExists: 203,
  userNotFound: 204,
  permissionDenied: 603,
  groupNotFound: 605,
  notMember: 602,
  alreadyMember: 601,
  groupFull: 606,
  tooLarge: 511,
  rateLimited: 509,
  limitExceeded: 50,
  notAllowed: 54,
  unavailable: 302,
};

/** bindCodes takes the code numbers from the SDK's WebIM.statusCode. */
export function bindCodes(statusCode: Record<string, number> | undefined): void {
  for (const [key, name] of Object.entries(codeNames) as [keyof typeof codeNames, string][]) {
    const n = statusCode?.[name];
    if (typeof n === 'number') codes[key] = n;
  }
}

/** An error as the SDK reports it, or anything thrown. */
export interface ErrorLike {
  type?: number;
  message?: string;
  data?: { name?: string };
}

function serverSaid(e: ErrorLike): string {
  const m = (e.message ?? '').trim();
  if (!m) return '';
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');
}

/** errorText turns an SDK error into a sentence for people; context names what was being done. */
export function errorText(err: unknown, context = ''): string {
  const e: ErrorLike = err && typeof err === 'object' ? (err as ErrorLike) : { message: String(err) };
  const prefix = context ? `${context}: ` : '';
  switch (e.type) {
    case codes.disconnected:
    case codes.closed:
      return `${prefix}not connected to the server. It will be retried once the connection is back.`;
    case codes.ajax:
      return `${prefix}the server cannot be reached. Check your network connection.`;
    case codes.timeout:
      return `${prefix}the server did not answer in time. Try again.`;
    case codes.unauthorized:
      return `${prefix}${serverSaid(e) || 'wrong username or password.'}`;
    case codes.tokenExpired:
      return `${prefix}your session has expired. Log in again.`;
    case codes.userExists:
      return `${prefix}that username is taken. Pick another one, or log in.`;
    case codes.userNotFound:
      return `${prefix}${serverSaid(e) || 'there is no such user.'}`;
    case codes.permissionDenied:
      return `${prefix}not allowed. ${serverSaid(e)}`.trim();
    case codes.rateLimited:
      return `${prefix}too many requests. Wait a moment and try again.`;
    case codes.unavailable:
      return `${prefix}the server is busy or restarting. Try again in a moment.`;
    case codes.registrationClosed:
      return `${prefix}this server does not allow new accounts. Ask its operator for one.`;
    case codes.tooLarge:
      return `${prefix}${serverSaid(e) || 'too large.'}`;
    default:
      return `${prefix}${serverSaid(e) || 'something went wrong.'}`;
  }
}

/** sentence capitalises the first letter. */
export function sentence(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** initials for an avatar: "alice" -> "A", "bob.smith" -> "BS". */
export function initials(name: string): string {
  const parts = name.split(/[\s._-]+/).filter(Boolean);
  if (parts.length === 0) return '?';
  return (parts[0][0] + (parts.length > 1 ? parts[1][0] : '')).toUpperCase();
}

/** hue picks a stable avatar colour for a name. */
export function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
  return h;
}

/** A list of readers, newest first, as far as it has been paged. */
export interface ReaderList<R extends { username: string }> {
  readers: R[];
  /** Where the next (older) page starts; '' when readLast. */
  readCursor: string;
  readLast: boolean;
}

/**
 * withFirstPage puts a fresh first page of readers (the newest reads) in front of the readers
 * already shown. When the page reaches them, the new reads go on top and paging goes on where it
 * was; otherwise (nothing shown yet, the page holds everyone, or more was read meanwhile than a
 * page holds) the list starts over from the fresh page.
 */
export function withFirstPage<R extends { username: string }>(old: ReaderList<R>, page: R[], cursor: string, isLast: boolean): ReaderList<R> {
  const shown = new Set(old.readers.map((r) => r.username));
  if (!isLast && page.some((r) => shown.has(r.username))) {
    const fresh = new Set(page.map((r) => r.username));
    return { readers: [...page, ...old.readers.filter((r) => !fresh.has(r.username))], readCursor: old.readCursor, readLast: old.readLast };
  }
  return { readers: page, readCursor: isLast ? '' : cursor, readLast: isLast };
}

/**
 * receiptTime is the time a receipt stands for: the time of the message it names when that
 * message is loaded, else the receipt's own time, else now. A receipt without a usable time
 * (missing or not a number) must not poison the read-up-to position with NaN.
 */
export function receiptTime(messageTime: number | undefined, raw: unknown, now = Date.now()): number {
  if (messageTime !== undefined && Number.isFinite(messageTime)) return messageTime;
  const t = Number(raw);
  return Number.isFinite(t) && t > 0 ? t : now;
}

/** duration is a short human span: "40 s", "3 min", "1 h 5 min", "2 d 3 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** reachedText says how long a read milestone took: "after 3 min", or "not yet". */
export function reachedText(ms: number | null): string {
  return ms === null ? 'not yet' : `after ${duration(ms)}`;
}

/**
 * bucketLabels names the bars of a read-time distribution: "≤ 1 min", "≤ 5 min", …, and the last
 * one (upTo null) "later".
 */
export function bucketLabels(buckets: { upTo: number | null }[]): string[] {
  return buckets.map((b) => (b.upTo === null ? 'later' : `≤ ${duration(b.upTo)}`));
}

/** remindLabel is the remind button: "Remind 12 who haven't read". */
export function remindLabel(unread: number): string {
  return unread === 1 ? 'Remind the 1 who hasn’t read' : `Remind ${unread} who haven’t read`;
}

/** remindedNote is how often and when last a member was reminded: "reminded 2 times, last at 10:42". */
export function remindedNote(times: number, at: number, now = Date.now()): string {
  if (!times) return '';
  const when = shortTime(at, now);
  return times === 1 ? `reminded at ${when}` : `reminded ${times} times, last at ${when}`;
}

/** remindedText is the outcome of a remind: "Reminded 12. You can remind again at 10:52." */
export function remindedText(r: { reminded: number; skipped: string[]; nextAt: number }, now = Date.now()): string {
  const who = r.reminded === 1 ? 'Reminded 1 person.' : `Reminded ${r.reminded} people.`;
  const skipped = r.skipped.length ? ` Not reminded (read it meanwhile, or not a reader): ${r.skipped.join(', ')}.` : '';
  return `${r.reminded === 0 ? 'No one left to remind.' : who}${skipped} You can remind again at ${shortTime(r.nextAt, now)}.`;
}

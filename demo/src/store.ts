/**
 * The app's state and everything it does with the SDK. Components read the signals and call
 * the actions; only this file (and the dialogs' paged listings, through `sdk()`) talks to WebIM.
 */
import { batch, signal } from '@preact/signals';
import type { Connection, GroupEvent, Handlers, ReceiptPolicy, ReceivedMessage, ReminderEvent, SetReceiptPolicyOptions, StatisticEntry, UserSettings, WebIMError } from '@seen/webim';
import { bindCodes, byTime, codes, convKey, errorText, hashToKey, keyToHash, parseKey, receiptTime, type ChatType } from './format';

// ---------- types ----------

export interface Msg {
  /** The server id once stored; the local id while sending or after a failure. */
  id: string;
  localId?: string;
  type: string;
  chatType: ChatType;
  from: string;
  to: string;
  text: string;
  time: number;
  /** Asked for group read receipts. */
  ack: boolean;
  status: 'sending' | 'sent' | 'failed';
  error?: string;
  /** The message as the SDK gave it (what the read tracker observes). */
  raw?: ReceivedMessage;
}

export interface Conv {
  key: string;
  chatType: ChatType;
  target: string;
  last?: Msg;
  /** Unread messages as the server counts them (plus live arrivals since). */
  unread: number;
}

export interface Thread {
  messages: Msg[];
  cursor: string;
  isLast: boolean;
  loading: boolean;
  loadedOnce: boolean;
  error: string;
}

export interface Group {
  id: string;
  name: string;
  owner: string;
  admins: string[];
  memberCount: number;
  /** The group's receipt policy, once loaded. */
  policy?: ReceiptPolicy;
}

/** A reminder to read a group message, one per message (the latest, and how many came). */
export interface Reminder {
  id: string;
  groupId: string;
  mid: string;
  from: string;
  time: number;
  times: number;
}

export type Role = 'owner' | 'admin' | 'member';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

type Phase = 'boot' | 'login' | 'app' | 'bootError' | 'noSdk';

// ---------- state ----------

const sessionKey = 'seen.demo.session';

export const phase = signal<Phase>('boot');
export const me = signal('');
export const bootError = signal('');
export const loginNotice = signal('');
export const connState = signal<'online' | 'reconnecting'>('online');
export const reconnect = signal<{ attempt: number; delay: number } | null>(null);
export const browserOnline = signal(typeof navigator === 'undefined' ? true : navigator.onLine);
export const convs = signal<Record<string, Conv>>({});
export const convsLoaded = signal(false);
export const threads = signal<Record<string, Thread>>({});
export const groups = signal<Record<string, Group>>({});
/** Readers per receipt-requesting message (server id). Only grows. */
export const counts = signal<Record<string, number>>({});
/**
 * Eligible readers per receipt-requesting message: the server's snapshot when it was sent (the
 * base of its "read by all": count >= eligible), else readers + not yet read.
 */
export const eligible = signal<Record<string, number>>({});
/** Messages whose eligible readers came from the server's snapshot (which then wins). */
const snapshot = new Set<string>();
/** Single chats: the time up to which the peer has read my messages. */
export const peerReadUpTo = signal<Record<string, number>>({});
/** Single chats: the time up to which my messages have reached the peer's device. */
export const peerDeliveredUpTo = signal<Record<string, number>>({});
export const current = signal<string | null>(null);
/** Whether the open conversation is scrolled to its newest message. */
export const atBottom = signal(true);
export const toasts = signal<Toast[]>([]);
/** Conversations with reads that came in while I was away (from onStatisticMessage). */
export const awayReads = signal<Record<string, number>>({});
/** Reminders to read, newest first, until read or dismissed (live, and those missed while away). */
export const reminders = signal<Reminder[]>([]);
/** The message a reminder asked to show: the chat view scrolls to it. */
export const focusMsg = signal<string | null>(null);
/** My own settings (the privacy switch), once loaded; settingsError if they could not be. */
export const settings = signal<UserSettings | null>(null);
export const settingsError = signal('');

let conn: Connection | null = null;
let loggingOut = false;

/** sdk returns the connection of the session (for the dialogs' paged listings). */
export function sdk(): Connection {
  if (!conn) throw new Error('not logged in');
  return conn;
}

// ---------- toasts ----------

let toastId = 0;

/** toast shows a message in the status area; errors stay longer. */
export function toast(kind: Toast['kind'], text: string, ttlMs = kind === 'error' ? 12000 : 6000): void {
  const t: Toast = { id: ++toastId, kind, text };
  // Keep the newest few; an identical message replaces the older one.
  toasts.value = [...toasts.value.filter((x) => x.text !== text).slice(-3), t];
  if (ttlMs > 0) setTimeout(() => dismissToast(t.id), ttlMs);
}

export function dismissToast(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

function fail(context: string) {
  return (err: unknown) => {
    toast('error', errorText(err, context));
  };
}

// ---------- helpers ----------

function update<T>(s: { value: Record<string, T> }, key: string, f: (old: T | undefined) => T | undefined): void {
  const old = s.value[key];
  const next = f(old);
  if (next === old) return;
  const copy = { ...s.value };
  if (next === undefined) delete copy[key];
  else copy[key] = next;
  s.value = copy;
}

function fromSdk(m: ReceivedMessage): Msg {
  let text = m.msg ?? '';
  if (m.type === 'custom') text = `[${m.customEvent || 'custom message'}]`;
  return {
    id: String(m.id),
    type: m.type,
    chatType: m.chatType,
    from: m.from,
    to: m.to,
    text,
    time: Number(m.time) || Date.now(),
    ack: m.chatType === 'groupChat' && m.msgConfig?.allowGroupAck === true,
    status: 'sent',
    raw: m,
  };
}

/** keyOf is the conversation a message belongs to, seen from me. */
function keyOf(m: { chatType: ChatType; from: string; to: string }): string {
  if (m.chatType === 'groupChat') return convKey('groupChat', m.to);
  return convKey('singleChat', m.from === me.value ? m.to : m.from);
}

/** noteTotals records the reader and not-yet-read totals of a message, read together. */
export function noteTotals(mid: string, read: number, unread: number, elig?: number): void {
  batch(() => {
    noteEligible(mid, elig);
    setCount(mid, read);
    if (!snapshot.has(mid)) update(eligible, mid, () => Math.max(read, counts.value[mid] ?? 0) + unread);
  });
}

/** noteEligible records the server's eligible readers of a message (0: not known). */
function noteEligible(mid: string, n: number | undefined): void {
  if (!n) return;
  snapshot.add(mid);
  update(eligible, mid, (old) => (old === n ? old : n));
}

/** title is how a conversation is named in the list and the header. */
export function title(key: string): string {
  const p = parseKey(key);
  if (!p) return key;
  if (p.chatType === 'groupChat') return groups.value[p.target]?.name || 'Group';
  return p.target;
}

/** roleIn is my role in a group, or undefined while unknown. */
export function roleIn(groupId: string): Role | undefined {
  const g = groups.value[groupId];
  if (!g) return undefined;
  if (g.owner === me.value) return 'owner';
  if (g.admins.includes(me.value)) return 'admin';
  return 'member';
}

/** canManage: owners and admins manage the group and its receipt policy. */
export function canManage(groupId: string): boolean {
  const r = roleIn(groupId);
  return r === 'owner' || r === 'admin';
}

/** canRequest: whether I may ask for read receipts in a group (its policy; by default owners and admins). */
export function canRequest(groupId: string): boolean {
  return groups.value[groupId]?.policy?.request === 'all' || canManage(groupId);
}

/**
 * canSeeReceipts: whether I may see the receipts of a message from `from` in a group: always my
 * own; others' per the group's visibility (every member, or the owner and admins; by default the
 * latter, as the server's default).
 */
export function canSeeReceipts(groupId: string, from: string): boolean {
  if (from === me.value) return true;
  const v = groups.value[groupId]?.policy?.visibility ?? 'admins';
  return v === 'members' || (v === 'admins' && canManage(groupId));
}

/** canRemind: the sender, the owner and admins may remind those who have not read. */
export function canRemind(groupId: string, from: string): boolean {
  return from === me.value || canManage(groupId);
}

/** showsLists: whether the group shows who has read (else counts only). */
export function showsLists(groupId: string): boolean {
  return groups.value[groupId]?.policy?.lists !== false;
}

function newer(a: Msg | undefined, b: Msg): boolean {
  return !a || byTime(a, b) < 0;
}

function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState === 'visible';
}

// ---------- session ----------

interface Saved {
  user: string;
  token: string;
}

function loadSaved(): Saved | null {
  try {
    const s = JSON.parse(localStorage.getItem(sessionKey) || 'null');
    if (s && typeof s.user === 'string' && typeof s.token === 'string' && s.user && s.token) return s;
  } catch {
    // a broken entry is no session
  }
  return null;
}

function save(s: Saved | null): void {
  try {
    if (s) localStorage.setItem(sessionKey, JSON.stringify(s));
    else localStorage.removeItem(sessionKey);
  } catch {
    // private mode: the session lasts as long as the page
  }
}

/** boot starts the app: resume the saved session, or show the login form. */
export async function boot(): Promise<void> {
  if (typeof WebIM === 'undefined' || !WebIM?.connection) {
    phase.value = 'noSdk';
    return;
  }
  bindCodes(WebIM.statusCode);
  addEventListener('online', () => (browserOnline.value = true));
  addEventListener('offline', () => (browserOnline.value = false));
  const follow = () => {
    const key = hashToKey(location.hash);
    if (key !== current.value && phase.value === 'app') open(key);
  };
  addEventListener('hashchange', follow);
  addEventListener('popstate', follow);
  document.addEventListener('visibilitychange', () => markReadIfSeen());
  const saved = loadSaved();
  if (!saved) {
    phase.value = 'login';
    return;
  }
  await resume(saved);
}

/** resume reopens a saved session with its token. */
export async function resume(saved = loadSaved()): Promise<void> {
  if (!saved) {
    phase.value = 'login';
    return;
  }
  phase.value = 'boot';
  try {
    await start(saved.user, { accessToken: saved.token });
  } catch (err) {
    const e = err as WebIMError;
    if (e?.type === codes.unauthorized || e?.type === codes.tokenExpired) {
      save(null);
      loginNotice.value = 'Your session has ended. Log in again.';
      phase.value = 'login';
      return;
    }
    const unreachable = e?.type === codes.disconnected || e?.type === codes.ajax || e?.type === codes.timeout;
    bootError.value = unreachable ? 'Cannot reach the seen server. Check your connection, then try again.' : errorText(err, 'Could not connect');
    phase.value = 'bootError';
  }
}

/** login opens a session with a password; it throws the SDK error for the form to show. */
export async function login(user: string, pwd: string): Promise<void> {
  await start(user, { pwd });
}

/** register creates the account, then logs in. */
export async function register(user: string, pwd: string): Promise<void> {
  const c = new WebIM!.connection({});
  await c.registerUser({ username: user, password: pwd });
  await start(user, { pwd });
}

/** logout revokes the token and forgets the session (the device id stays). */
export async function logout(): Promise<void> {
  loggingOut = true;
  const c = conn;
  conn = null;
  save(null);
  reset();
  phase.value = 'login';
  // The next person to log in here starts at their list, not in this one's conversation.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  try {
    await c?.logout();
  } finally {
    loggingOut = false;
  }
}

function reset(): void {
  batch(() => {
    me.value = '';
    convs.value = {};
    convsLoaded.value = false;
    threads.value = {};
    groups.value = {};
    counts.value = {};
    eligible.value = {};
    peerReadUpTo.value = {};
    peerDeliveredUpTo.value = {};
    awayReads.value = {};
    reminders.value = [];
    focusMsg.value = null;
    settings.value = null;
    settingsError.value = '';
    current.value = null;
    connState.value = 'online';
    reconnect.value = null;
    toasts.value = [];
  });
  eligiblePending.clear();
  snapshot.clear();
  eligibleQueue.length = 0;
  eligibleWanted.clear();
  settledAcks.clear();
}

async function start(user: string, creds: { pwd?: string; accessToken?: string }): Promise<void> {
  conn?.close();
  reset();
  // delivery: this device tells the sender when their single-chat messages reached it ("Delivered").
  const c = new WebIM!.connection({ queueWhileDisconnected: true, delivery: true });
  WebIM!.conn = c; // the vendor's convention; handy in the browser console
  conn = c;
  // Handlers before open: statistics arrive right after login.
  c.addEventHandler('demo', handlers(c));
  try {
    const r = await c.open({ user, ...creds });
    save({ user: c.user || user, token: r.accessToken });
  } catch (err) {
    if (conn === c) conn = null;
    c.close();
    throw err;
  }
  batch(() => {
    me.value = c.user || user;
    loginNotice.value = '';
    phase.value = 'app';
  });
  loadReminders(me.value);
  const key = hashToKey(location.hash);
  void loadSettings();
  await loadConversations();
  if (key) open(key);
}

// ---------- events ----------

function handlers(c: Connection): Handlers {
  const mine = <E>(f: (e: E) => void) => (e: E) => {
    if (conn === c) f(e);
  };
  return {
    onConnected: mine(() => {
      const wasDown = connState.value === 'reconnecting';
      batch(() => {
        connState.value = 'online';
        reconnect.value = null;
      });
      if (wasDown) {
        toast('info', 'Reconnected.');
        void refreshAfterReconnect();
      }
    }),
    onReconnecting: mine((e) => {
      batch(() => {
        connState.value = 'reconnecting';
        reconnect.value = { attempt: Number(e?.attempt) || 1, delay: Number(e?.delay) || 0 };
      });
    }),
    onDisconnected: mine(() => {
      if (loggingOut || phase.value !== 'app') return;
      // The SDK gave up (token revoked, expired, or reconnecting failed for good).
      conn = null;
      save(null);
      reset();
      loginNotice.value ||= 'You were logged out. Log in again.';
      phase.value = 'login';
    }),
    onError: mine((e: WebIMError) => {
      if (e?.type === codes.unauthorized || e?.type === codes.tokenExpired) {
        if (phase.value === 'app') loginNotice.value = errorText(e, 'Session ended');
        return;
      }
      if (phase.value === 'app') toast('error', errorText(e));
    }),
    onTextMessage: mine(receive),
    onCustomMessage: mine(receive),
    onReadMessage: mine((r) => {
      const mid = String(r?.mid ?? '');
      if (!mid) return;
      if (r.groupReadCount && typeof r.groupReadCount[mid] === 'number') {
        noteEligible(mid, r.eligible);
        setCount(mid, r.groupReadCount[mid]);
      } else if (r.from) {
        // A single-chat read receipt: the peer read up to this message.
        const key = convKey('singleChat', r.from);
        const m = threads.value[key]?.messages.find((x) => x.id === mid);
        markPeerRead(key, receiptTime(m?.time, r.time));
      }
    }),
    onStatisticMessage: mine((s) => {
      let entries: StatisticEntry[] = [];
      try {
        entries = JSON.parse(s?.location || '{}').group_ack || [];
      } catch {
        return;
      }
      const changed: typeof entries = [];
      for (const e of entries) {
        if ((counts.value[e.mid] ?? -1) < e.count) changed.push(e);
        noteEligible(String(e.mid), e.eligible);
        setCount(String(e.mid), e.count);
      }
      if (changed.length === 0) return;
      const perConv: Record<string, number> = { ...awayReads.value };
      for (const e of changed) {
        const key = convKey('groupChat', String(e.groupId));
        if (key !== current.value) perConv[key] = (perConv[key] ?? 0) + 1;
      }
      awayReads.value = perConv;
      const who = changed[changed.length - 1].from;
      const n = changed.length;
      toast('info', `While you were away, ${n === 1 ? '1 of your messages was' : `${n} of your messages were`} read${who ? ` (latest reader: ${who})` : ''}.`, 10000);
    }),
    onDeliveredMessage: mine((r) => {
      // A single-chat delivery receipt: my message (and those before it) reached the peer.
      const mid = String(r?.mid ?? '');
      if (!mid || !r.from) return;
      const key = convKey('singleChat', r.from);
      const m = threads.value[key]?.messages.find((x) => x.id === mid);
      markPeerDelivered(key, receiptTime(m?.time, r.time));
    }),
    onChannelMessage: mine((e) => {
      // The peer read our whole single chat.
      if (e?.chatType === 'singleChat' && e.from) markPeerRead(convKey('singleChat', e.from), receiptTime(undefined, e.time));
    }),
    onConversationRead: mine((e) => {
      const key = convKey(e?.chatType === 'groupChat' ? 'groupChat' : 'singleChat', String(e?.to ?? ''));
      update(convs, key, (c) => (c && c.unread ? { ...c, unread: 0 } : c));
    }),
    onGroupEvent: mine(groupEvent),
    onReminder: mine(receiveReminder),
  };
}

// ---------- reminders ----------

/** receiveReminder shows a reminder (live, or one that came while I was away), one per message. */
function receiveReminder(e: ReminderEvent): void {
  const mid = String(e?.mid ?? '');
  const groupId = String(e?.to ?? '');
  if (!mid || !groupId || settledAcks.has(mid)) return;
  const old = reminders.value.find((r) => r.mid === mid);
  // A reminder from the server's administrator has no sender name.
  const r: Reminder = { id: e.id, groupId, mid, from: e.from || 'An administrator', time: Number(e.time) || Date.now(), times: (old?.times ?? 0) + 1 };
  setReminders([r, ...reminders.value.filter((x) => x.mid !== mid)]);
  if (!groups.value[groupId]) void loadGroup(groupId);
}

/** The most reminders kept; the oldest go first. */
const maxReminders = 50;

const remindersKey = (user: string) => `seen.demo.reminders.${user}`;

/**
 * setReminders shows the reminders and keeps them in localStorage, per user, until read or
 * dismissed: the SDK delivers each reminder once (and the server's stream is confirmed), so a
 * reload must not lose one that was not acted on.
 */
function setReminders(list: Reminder[]): void {
  reminders.value = list.slice(0, maxReminders);
  if (!me.value) return;
  try {
    if (reminders.value.length) localStorage.setItem(remindersKey(me.value), JSON.stringify(reminders.value));
    else localStorage.removeItem(remindersKey(me.value));
  } catch {
    // private mode: they last as long as the page
  }
}

/** loadReminders brings back the reminders of user that were not acted on before a reload. */
function loadReminders(user: string): void {
  try {
    const list = JSON.parse(localStorage.getItem(remindersKey(user)) || '[]');
    if (!Array.isArray(list)) return;
    const ok = list.filter((r): r is Reminder => r && typeof r.mid === 'string' && typeof r.groupId === 'string' && typeof r.from === 'string' && typeof r.time === 'number');
    // Live ones that came meanwhile (before the list was loaded) stay first.
    const live = new Set(reminders.value.map((r) => r.mid));
    setReminders([...reminders.value, ...ok.filter((r) => !live.has(r.mid))]);
  } catch {
    // a broken entry is no reminders
  }
}

/** dismissReminder hides the reminder of a message. */
export function dismissReminder(mid: string): void {
  if (reminders.value.some((r) => r.mid === mid)) setReminders(reminders.value.filter((r) => r.mid !== mid));
}

/** showReminded opens the group of a reminder at its message. */
export function showReminded(r: Reminder): void {
  focusMsg.value = r.mid;
  const key = convKey('groupChat', r.groupId);
  if (current.value !== key) open(key);
}

/** remindUnread reminds the members who have not read my message (or one I may remind of). Throws for the caller. */
export async function remindUnread(groupId: string, mid: string) {
  const r = await sdk().remindUnreadMembers({ groupId, msgId: mid });
  return r.data;
}

// ---------- settings and policy ----------

async function loadSettings(): Promise<void> {
  const c = conn;
  if (!c) return;
  try {
    const r = await c.getUserSettings();
    if (conn === c) {
      settings.value = r.data;
      settingsError.value = '';
    }
  } catch (err) {
    if (conn === c) settingsError.value = errorText(err, 'Could not load your settings');
  }
}

/** setSendReadReceipts turns my read receipts on or off. Throws for the caller. */
export async function setSendReadReceipts(on: boolean): Promise<void> {
  const r = await sdk().setUserSettings({ sendReadReceipts: on });
  settings.value = r.data;
  settingsError.value = '';
}

/** setGroupPolicy changes a group's receipt policy (owner and admins). Throws for the caller. */
export async function setGroupPolicy(gid: string, change: Omit<SetReceiptPolicyOptions, 'groupId'>): Promise<void> {
  const r = await sdk().setGroupReceiptPolicy({ groupId: gid, ...change });
  update(groups, gid, (g) => g && { ...g, policy: r.data });
}

function markPeerRead(key: string, time: number): void {
  update(peerReadUpTo, key, (t) => Math.max(t ?? 0, time));
}

function markPeerDelivered(key: string, time: number): void {
  update(peerDeliveredUpTo, key, (t) => Math.max(t ?? 0, time));
}

/**
 * notePeerState takes the read state that history carries on my single-chat messages (the SDK's
 * isRead / isDelivered), so "Seen" and "Delivered" survive a reload.
 */
function notePeerState(key: string, msgs: Msg[]): void {
  let read = 0;
  let delivered = 0;
  for (const m of msgs) {
    if (m.chatType !== 'singleChat' || m.from !== me.value) continue;
    if (m.raw?.isRead) read = Math.max(read, m.time);
    if (m.raw?.isDelivered || m.raw?.isRead) delivered = Math.max(delivered, m.time);
  }
  batch(() => {
    if (read) markPeerRead(key, read);
    if (delivered) markPeerDelivered(key, delivered);
  });
}

async function refreshAfterReconnect(): Promise<void> {
  await loadConversations();
  const key = current.value;
  if (key) {
    const p = parseKey(key);
    if (p?.chatType === 'groupChat') {
      void loadGroup(p.target);
      void refreshCounts(key);
    }
  }
}

function receive(m: ReceivedMessage): void {
  if (!m || !m.id) return;
  const msg = fromSdk(m);
  const key = keyOf(msg);
  const mineMsg = msg.from === me.value;
  batch(() => {
    update(convs, key, (c) => {
      const base: Conv = c ?? { key, chatType: msg.chatType, target: parseKey(key)!.target, unread: 0 };
      if (!newer(base.last, msg)) return c ?? base;
      return { ...base, last: msg, unread: mineMsg ? base.unread : base.unread + 1 };
    });
    update(threads, key, (t) => (t ? { ...t, messages: merge(t.messages, [msg]) } : t));
  });
  if (msg.chatType === 'groupChat' && !groups.value[msg.to]) void loadGroup(msg.to);
  if (typeof m.readCount === 'number') setCount(msg.id, m.readCount);
  if (msg.ack && mineMsg) {
    setCount(msg.id, counts.value[msg.id] ?? 0);
    ensureEligible(msg.to, msg.id);
  }
  if (key === current.value) markReadIfSeen();
}

function groupEvent(e: GroupEvent): void {
  const gid = String(e?.id ?? '');
  if (!gid) return;
  const users: string[] = Array.isArray(e.users) ? e.users : e.userId ? [e.userId] : [];
  const aboutMe = users.includes(me.value);
  const name = e.name || groups.value[gid]?.name || 'a group';
  const key = convKey('groupChat', gid);
  switch (e.operation) {
    case 'destroy':
      dropGroup(gid, `The group “${name}” was deleted.`);
      return;
    case 'removeMember':
    case 'memberAbsence':
      if (aboutMe) {
        dropGroup(gid, e.operation === 'removeMember' ? `You were removed from “${name}”.` : '');
        return;
      }
      // Leavers who had not read drop out of the eligible readers.
      refreshEligible(gid);
      break;
    case 'create':
    case 'directJoined':
    case 'memberPresence':
      if (aboutMe && e.from !== me.value) toast('info', `${e.from || 'Someone'} added you to “${name}”.`);
      if (aboutMe || !convs.value[key]) update(convs, key, (c) => c ?? { key, chatType: 'groupChat' as const, target: gid, unread: 0 });
      break;
    case 'setAdmin':
      if (aboutMe) toast('info', `You are now an admin of “${name}”.`);
      break;
    case 'removeAdmin':
      if (aboutMe) toast('info', `You are no longer an admin of “${name}”.`);
      break;
    case 'changeOwner':
      if (aboutMe) toast('info', `You are now the owner of “${name}”.`);
      break;
  }
  void loadGroup(gid);
}

function dropGroup(gid: string, why: string): void {
  const key = convKey('groupChat', gid);
  batch(() => {
    update(convs, key, () => undefined);
    update(threads, key, () => undefined);
    update(groups, gid, () => undefined);
    if (current.value === key) open(null);
  });
  if (why) toast('info', why);
}

// ---------- conversations ----------

/** loadConversations lists my conversations with unread counts, and my groups. */
export async function loadConversations(): Promise<void> {
  const c = conn;
  if (!c) return;
  const before = new Set(Object.keys(convs.value));
  try {
    const list: Conv[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const r = await c.getServerConversations({ pageSize: 50, cursor });
      for (const x of r.data.conversations) {
        const last = x.lastMessage ? fromSdk(x.lastMessage) : undefined;
        list.push({ key: convKey(x.conversationType, x.conversationId), chatType: x.conversationType, target: x.conversationId, last, unread: x.unReadCount || 0 });
      }
      cursor = r.data.cursor;
      if (!cursor) break;
    }
    const joined: Record<string, Group> = {};
    const size = 100;
    for (let page = 0; page < 50; page++) {
      const r = await c.getJoinedGroups({ pageNum: page, pageSize: size });
      for (const g of r.data) {
        joined[g.groupid] = { id: g.groupid, name: g.groupname, owner: g.owner, admins: groups.value[g.groupid]?.admins ?? [], memberCount: g.affiliations_count, policy: g.receiptPolicy ?? groups.value[g.groupid]?.policy };
      }
      if (r.data.length < size) break;
    }
    if (conn !== c) return;
    // Groups that went away while we were not connected (removed, deleted): pushes are live only.
    if (convsLoaded.value) {
      for (const conv of Object.values(convs.value)) {
        if (conv.chatType === 'groupChat' && before.has(conv.key) && !joined[conv.target]) dropGroup(conv.target, `You are no longer a member of “${title(conv.key)}”.`);
      }
    }
    batch(() => {
      groups.value = { ...groups.value, ...joined };
      const next: Record<string, Conv> = {};
      for (const conv of list) {
        if (conv.chatType === 'groupChat' && !joined[conv.target]) continue; // no longer a member
        const live = convs.value[conv.key];
        // A message that came in live after the server made the list stays the last one.
        if (live?.last && conv.last && byTime(conv.last, live.last) < 0) next[conv.key] = { ...conv, last: live.last };
        else next[conv.key] = conv;
      }
      for (const g of Object.values(joined)) {
        const key = convKey('groupChat', g.id);
        next[key] ??= { key, chatType: 'groupChat', target: g.id, unread: 0 };
      }
      // Single chats started here and not yet in the server's list, and anything that came
      // (a new group) while the list was loading.
      for (const [key, conv] of Object.entries(convs.value)) if (!next[key] && (conv.chatType === 'singleChat' || !before.has(key))) next[key] = conv;
      convs.value = next;
      convsLoaded.value = true;
    });
  } catch (err) {
    fail('Could not load your conversations')(err);
  }
}

/** open shows a conversation (null: the list) and remembers it in the address. */
export function open(key: string | null): void {
  const p = key ? parseKey(key) : undefined;
  key = p ? key : null;
  batch(() => {
    current.value = key;
    atBottom.value = true;
    if (key) update(convs, key, (c) => c ?? { key: key!, chatType: p!.chatType, target: p!.target, unread: 0 });
    if (key && awayReads.value[key]) update(awayReads, key, () => undefined);
  });
  // A new history entry, so the back button returns to the list on a phone.
  const hash = keyToHash(key);
  if ((location.hash || '#/') !== hash) history.pushState(null, '', hash);
  if (!key) return;
  if (!threads.value[key]?.loadedOnce) void loadOlder(key);
  if (p!.chatType === 'groupChat') void loadGroup(p!.target);
  markReadIfSeen();
}

/** startChat opens a single chat with a user. */
export function startChat(user: string): void {
  open(convKey('singleChat', user));
}

/**
 * checkUser resolves when the user exists and rejects with the SDK's error otherwise
 * (USER_NOT_FOUND for a name nobody has). It asks for one message of the conversation: the SDK
 * has no user lookup, and history answers user_not_found for a name that is not an account.
 */
export async function checkUser(user: string): Promise<void> {
  await sdk().getHistoryMessages({ targetId: user, chatType: 'singleChat', pageSize: 1 });
}

// ---------- history ----------

function merge(old: Msg[], add: Msg[]): Msg[] {
  const byId = new Map<string, Msg>();
  for (const m of old) byId.set(m.id, m);
  for (const m of add) {
    const prev = byId.get(m.id);
    // Never replace a local state (sending, failed) with nothing; keep the newest data otherwise.
    byId.set(m.id, prev && prev.status !== 'sent' ? prev : m);
  }
  return [...byId.values()].sort(byTime);
}

/** loadOlder loads the page of history before the oldest loaded message. */
export async function loadOlder(key: string): Promise<void> {
  const c = conn;
  const p = parseKey(key);
  if (!c || !p) return;
  const t = threads.value[key];
  if (t?.loading || (t?.loadedOnce && t.isLast)) return;
  update(threads, key, (old) => ({ messages: [], cursor: '', isLast: false, loadedOnce: false, ...old, loading: true, error: '' }));
  try {
    const r = await c.getHistoryMessages({ targetId: p.target, chatType: p.chatType, cursor: t?.cursor || undefined, pageSize: 30, searchDirection: 'up' });
    if (conn !== c) return;
    const msgs = r.messages.map(fromSdk);
    update(threads, key, (old) => ({
      messages: merge(old?.messages ?? [], msgs),
      cursor: r.cursor,
      isLast: r.isLast || msgs.length === 0,
      loading: false,
      loadedOnce: true,
      error: '',
    }));
    for (const m of r.messages) if (typeof m.readCount === 'number') setCount(String(m.id), m.readCount);
    for (const m of msgs) if (m.ack && m.from === me.value) ensureEligible(m.to, m.id);
    notePeerState(key, msgs);
    markReadIfSeen();
  } catch (err) {
    update(threads, key, (old) => old && { ...old, loading: false, error: errorText(err, 'Could not load messages') });
  }
}

// ---------- sending ----------

/** send sends a text message; ack asks the group's members for read receipts. */
export function send(key: string, text: string, ack: boolean): void {
  const c = conn;
  const p = parseKey(key);
  if (!c || !p) return;
  const localId = c.getUniqueId();
  const msg: Msg = {
    id: localId,
    localId,
    type: 'txt',
    chatType: p.chatType,
    from: me.value,
    to: p.target,
    text,
    time: Date.now(),
    ack: ack && p.chatType === 'groupChat',
    status: 'sending',
  };
  put(key, msg);
  void deliver(c, key, msg);
}

/** retry sends a failed message again, under the same local id (the server stores it once). */
export function retry(key: string, localId: string): void {
  const c = conn;
  const m = threads.value[key]?.messages.find((x) => x.localId === localId && x.status === 'failed');
  if (!c || !m) return;
  const again: Msg = { ...m, status: 'sending', error: undefined };
  put(key, again);
  void deliver(c, key, again);
}

/** discard drops a message that failed to send. */
export function discard(key: string, localId: string): void {
  update(threads, key, (t) => t && { ...t, messages: t.messages.filter((x) => !(x.localId === localId && x.status === 'failed')) });
}

function put(key: string, msg: Msg): void {
  batch(() => {
    update(threads, key, (t) => {
      const base = t ?? { messages: [], cursor: '', isLast: false, loading: false, loadedOnce: false, error: '' };
      return { ...base, messages: [...base.messages.filter((x) => x.id !== msg.id), msg].sort(byTime) };
    });
    update(convs, key, (c) => {
      const p = parseKey(key)!;
      const base: Conv = c ?? { key, chatType: p.chatType, target: p.target, unread: 0 };
      return newer(base.last, msg) || base.last?.id === msg.id ? { ...base, last: msg } : base;
    });
  });
}

async function deliver(c: Connection, key: string, msg: Msg): Promise<void> {
  const body = WebIM!.message.create({
    id: msg.localId,
    type: 'txt',
    chatType: msg.chatType,
    to: msg.to,
    msg: msg.text,
    ...(msg.ack ? { msgConfig: { allowGroupAck: true } } : {}),
  });
  try {
    const r = await c.send(body);
    if (conn !== c) return;
    const stored: Msg = {
      ...msg,
      id: r.serverMsgId,
      status: 'sent',
      time: Number(r.message?.time) || msg.time,
      raw: { id: r.serverMsgId, type: 'txt', chatType: msg.chatType, from: me.value, to: msg.to, msg: msg.text, ext: {}, time: Number(r.message?.time) || msg.time, ...(msg.ack ? { msgConfig: { allowGroupAck: true } } : {}) },
    };
    batch(() => {
      update(threads, key, (t) => t && { ...t, messages: merge(t.messages.filter((x) => x.localId !== msg.localId), [stored]) });
      update(convs, key, (cv) => (cv && cv.last?.localId === msg.localId ? { ...cv, last: stored } : cv));
    });
    if (stored.ack) {
      setCount(stored.id, 0);
      ensureEligible(stored.to, stored.id);
    }
  } catch (err) {
    if (conn !== c) return;
    const e = err as WebIMError;
    const text = errorText(err, 'Not sent');
    update(threads, key, (t) => t && { ...t, messages: t.messages.map((x) => (x.localId === msg.localId ? { ...x, status: 'failed' as const, error: text } : x)) });
    if (e?.type === codes.permissionDenied && msg.ack) {
      toast('error', 'Only the group owner and admins can request read receipts. Your message was not sent.');
      void loadGroup(msg.to); // our idea of the role was out of date
    } else {
      toast('error', text);
    }
  }
}

// ---------- read receipts ----------

function setCount(mid: string, n: number): void {
  const old = counts.value[mid];
  if (old !== undefined && old >= n) return;
  update(counts, mid, () => n);
  // "Read by all" is shown only after the server confirmed no one is left.
  const m = eligible.value[mid];
  if (m !== undefined && n >= m) recheckEligible(mid);
}

const eligiblePending = new Set<string>();
const eligibleQueue: (() => Promise<void>)[] = [];
let eligibleRunning = 0;
const groupOf = new Map<string, string>();
/** Messages waiting for their totals, by group: asked for together, one request per group. */
const eligibleWanted = new Map<string, Set<string>>();
let eligibleTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * ensureEligible learns how many members may read message mid: its readers plus the members who
 * have not read it yet. Messages asked for in the same tick (a page of history, a burst of sends)
 * go out together: one `getGroupMsgReadCount({ withUnread: true })` per group and 100 messages.
 */
export function ensureEligible(groupId: string, mid: string, force = false): void {
  groupOf.set(mid, groupId);
  if (eligiblePending.has(mid) || (!force && eligible.value[mid] !== undefined)) return;
  eligiblePending.add(mid);
  let wanted = eligibleWanted.get(groupId);
  if (!wanted) eligibleWanted.set(groupId, (wanted = new Set()));
  wanted.add(mid);
  eligibleTimer ??= setTimeout(flushEligible, 0);
}

function flushEligible(): void {
  eligibleTimer = undefined;
  const wanted = [...eligibleWanted];
  eligibleWanted.clear();
  for (const [groupId, mids] of wanted) {
    const ids = [...mids];
    for (let i = 0; i < ids.length; i += totalsBatch) {
      const part = ids.slice(i, i + totalsBatch);
      eligibleQueue.push(() => fetchTotals(groupId, part));
    }
  }
  pump();
}

/** The most messages per totals request (the server's limit). */
const totalsBatch = 100;

async function fetchTotals(groupId: string, ids: string[]): Promise<void> {
  const c = conn;
  try {
    if (!c) return;
    const r = await c.getGroupMsgReadCount({ groupId, msgIds: ids, withUnread: true });
    if (conn !== c) return;
    applyTotals(ids, r.data, r.unread ?? {}, r.eligible ?? {});
  } catch {
    // All or nothing: one message gone or not ours to see fails the batch. Ask for the others one
    // by one; a single failure leaves that label showing the count alone.
    if (ids.length > 1 && conn === c) {
      for (const mid of ids) eligibleQueue.push(() => fetchTotals(groupId, [mid]));
    }
  } finally {
    for (const mid of ids) eligiblePending.delete(mid);
  }
}

/** applyTotals records reader counts and, where known, how many may read each message. */
function applyTotals(ids: string[], read: Record<string, number>, unread: Record<string, number>, elig: Record<string, number>): void {
  batch(() => {
    for (const mid of ids) {
      const n = read[mid];
      if (n === undefined) continue;
      const u = unread[mid];
      noteEligible(mid, elig[mid]);
      if (u !== undefined && !snapshot.has(mid)) update(eligible, mid, () => Math.max(n, counts.value[mid] ?? 0) + u);
      setCount(mid, n);
    }
  });
}

function pump(): void {
  while (eligibleRunning < 4 && eligibleQueue.length) {
    const job = eligibleQueue.shift()!;
    eligibleRunning++;
    void job().finally(() => {
      eligibleRunning--;
      pump();
    });
  }
}

const recheckTimers = new Map<string, ReturnType<typeof setTimeout>>();

function recheckEligible(mid: string): void {
  const g = groupOf.get(mid);
  if (!g || recheckTimers.has(mid)) return;
  recheckTimers.set(
    mid,
    setTimeout(() => {
      recheckTimers.delete(mid);
      ensureEligible(g, mid, true);
    }, 250),
  );
}

/** refreshEligible asks again how many may read my loaded receipt messages in a group (after members left). */
function refreshEligible(groupId: string): void {
  const key = convKey('groupChat', groupId);
  for (const m of threads.value[key]?.messages ?? []) if (m.ack && m.from === me.value && eligible.value[m.id] !== undefined) ensureEligible(groupId, m.id, true);
}

/** refreshCounts asks the server for the reader counts and totals of my loaded messages in a group. */
async function refreshCounts(key: string): Promise<void> {
  const c = conn;
  const p = parseKey(key);
  if (!c || p?.chatType !== 'groupChat') return;
  const ids = (threads.value[key]?.messages ?? []).filter((m) => m.ack && m.from === me.value && m.status === 'sent').map((m) => m.id);
  if (!ids.length) return;
  try {
    const r = await c.getGroupMsgReadCount({ groupId: p.target, msgIds: ids, withUnread: true });
    if (conn === c) applyTotals(ids, r.data, r.unread ?? {}, r.eligible ?? {});
  } catch (err) {
    fail('Could not refresh read counts')(err);
  }
}

/** trackable says whether the read tracker should watch this message. */
export function trackable(m: Msg): boolean {
  return m.ack && m.status === 'sent' && m.from !== me.value && !!m.raw;
}

/**
 * Receipt-requesting messages from others whose acks the server has settled (the read tracker's
 * onAck): accepted, or refused for good, such as a message sent before I joined (not_allowed).
 * Either way there is nothing left to acknowledge, so the conversation may be marked read.
 */
const settledAcks = new Set<string>();

/** noteAck is the read tracker's onAck. */
export function noteAck(mid: string): void {
  settledAcks.add(mid);
  // Read: a reminder to read it has done its job.
  dismissReminder(mid);
  markReadIfSeen();
}

// ---------- unread: marking conversations read ----------

const acking = new Set<string>();

/**
 * markReadIfSeen clears the open conversation's unread count on the server once what it counts
 * has really been seen. In a group that conversation ack also acknowledges every receipt-requesting
 * message, so it waits until the read tracker has settled each loaded one (acknowledged, or refused
 * for good: one sent before I joined can never be) and the view is at the newest message: receipts
 * are never counted for messages no one looked at.
 */
export function markReadIfSeen(): void {
  const c = conn;
  const key = current.value;
  if (!c || !key || !pageVisible()) return;
  const conv = convs.value[key];
  if (!conv || conv.unread === 0 || acking.has(key)) return;
  if (conv.chatType === 'groupChat') {
    const t = threads.value[key];
    if (!t?.loadedOnce || !atBottom.value) return;
    const fromOthers = t.messages.filter((m) => m.from !== me.value && m.status === 'sent');
    if (!t.isLast && fromOthers.length < conv.unread) return; // some unread ones are not even loaded
    if (fromOthers.some((m) => m.ack && !settledAcks.has(m.id))) return;
  }
  acking.add(key);
  const body = WebIM!.message.create({ type: 'channel', chatType: conv.chatType, to: conv.target });
  c.send(body)
    .then(() => {
      if (conn === c) update(convs, key, (cv) => cv && { ...cv, unread: 0 });
    })
    .catch(() => {
      // Retried on the next look.
    })
    .finally(() => acking.delete(key));
}

// While a group with unread messages is open, look again as the read tracker acknowledges.
setInterval(() => {
  if (conn && current.value && (convs.value[current.value]?.unread ?? 0) > 0) markReadIfSeen();
}, 500);

// ---------- groups ----------

const groupLoads = new Map<string, Promise<void>>();

/** loadGroup refreshes a group's name, owner and admins. */
export function loadGroup(gid: string): Promise<void> {
  const running = groupLoads.get(gid);
  if (running) return running;
  const c = conn;
  if (!c) return Promise.resolve();
  const p = (async () => {
    try {
      const [info, admins] = await Promise.all([c.getGroupInfo({ groupId: gid }), c.getGroupAdmin({ groupId: gid })]);
      const g = info.data[0];
      if (conn !== c || !g) return;
      let policy = g.receiptPolicy;
      if (!policy) policy = await c.getGroupReceiptPolicy({ groupId: gid }).then((r) => r.data, () => undefined);
      if (conn !== c) return;
      update(groups, gid, () => ({ id: gid, name: g.name, owner: g.owner, admins: admins.data, memberCount: g.affiliations_count, policy }));
    } catch (err) {
      const e = err as WebIMError;
      if (e?.type === codes.groupNotFound || e?.type === codes.notMember) dropGroup(gid, '');
    } finally {
      groupLoads.delete(gid);
    }
  })();
  groupLoads.set(gid, p);
  return p;
}

/** createGroup creates a group with members and opens it. Throws for the form. */
export async function createGroup(name: string, members: string[]): Promise<void> {
  const r = await sdk().createGroupVNext({ groupName: name, members, isPublic: false });
  const gid = r.data.groupId;
  update(groups, gid, () => ({ id: gid, name, owner: me.value, admins: [], memberCount: members.length + 1 }));
  open(convKey('groupChat', gid));
}

/** groupAction runs a membership change and refreshes what depends on it. Throws for the caller. */
export async function groupAction(gid: string, action: 'add' | 'remove' | 'admin' | 'unadmin', users: string[]): Promise<void> {
  const c = sdk();
  if (action === 'add') await c.inviteUsersToGroup({ groupId: gid, users });
  else if (action === 'remove') await c.removeGroupMember({ groupId: gid, username: users[0] });
  else if (action === 'admin') await c.setAdmin({ groupId: gid, username: users[0] });
  else await c.removeAdmin({ groupId: gid, username: users[0] });
  if (action === 'remove') refreshEligible(gid);
  await loadGroup(gid);
}

/** leaveGroup leaves (or, for the owner, deletes) a group. Throws for the caller. */
export async function leaveGroup(gid: string, destroy: boolean): Promise<void> {
  const name = groups.value[gid]?.name ?? 'the group';
  if (destroy) await sdk().destroyGroup({ groupId: gid });
  else await sdk().leaveGroup({ groupId: gid });
  dropGroup(gid, destroy ? `You deleted “${name}”.` : `You left “${name}”.`);
}

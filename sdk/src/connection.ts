/**
 * The connection: `new WebIM.connection(options)`.
 *
 * It logs in over REST, keeps one authenticated WebSocket (docs/protocol.md), re-establishes it
 * with backoff when it drops, catches up (`sync`, `receipt.stats`) after every (re)connect, and
 * turns pushes into the vendor events, in the v4 shape for `addEventHandler` handlers and in the
 * v3 shape for `listen` handlers.
 */
import { backoffDelay } from './backoff';
import { AckItem, ReadBatcher, maxAckBatch } from './batch';
import { clientCodes, clientError, fromWire, serverCodes, WebIMError } from './errors';
import { deviceId as defaultDeviceId, uniqueId } from './ids';
import { isV3Body, Message, MessageBody, normalizeChatType, sendRequest, toV3, toV4 } from './message';
import {
  AckResultItem,
  AuthReply,
  ChannelPush,
  closeCodes,
  ConvReadPush,
  GroupPush,
  PeerReceiptPush,
  protocolVersion,
  PushFrame,
  ReceiptPush,
  ReplyFrame,
  SendReply,
  StatsEntry,
  StatsReply,
  SyncReply,
  WireConversation,
  WireGroup,
  WireMember,
  WireMessage,
} from './protocol';
import { ReadTracker, ReadTrackerOptions } from './tracker';

/** The part of the WebSocket API the SDK uses; the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor. */
export type SocketCtor = new (url: string) => SocketLike;

/** Options of `new WebIM.connection(...)`. Unknown vendor options are accepted and ignored. */
export interface ConnectionOptions {
  /** The WebSocket endpoint (`wss://host/ws`) or the server's http(s) base. Default: the page origin. */
  url?: string;
  /** The REST base (`https://host`). Default: the page origin, or derived from `url`. */
  apiUrl?: string;
  /** The vendor app key (`org#app`): accepted, not used yet. */
  appKey?: string;
  /** Send delivery receipts for single-chat messages automatically. */
  delivery?: boolean;
  /** Heartbeat interval in ms (the `ping` op); default: the server's advice, else 20000. */
  heartBeatWait?: number;
  /** Reconnect attempts before giving up after a drop; default Infinity. */
  autoReconnectNumMax?: number;
  /** This device's id; default: kept in localStorage under `seen.deviceId`. */
  deviceId?: string;
  /** (seen) Queue requests made while reconnecting instead of failing them at once. */
  queueWhileDisconnected?: boolean;
  /** (seen) How long to wait for a reply, in ms; default 20000. */
  requestTimeout?: number;
  /** (seen) A WebSocket constructor, for Node (`import WebSocket from 'ws'`). */
  WebSocket?: SocketCtor;
  /** (seen) A fetch function; default the global fetch. */
  fetch?: typeof fetch;
  /** (seen) Reconnect backoff: first cap and largest cap, in ms (defaults 1000 and 30000). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** (seen) How long after live pushes to confirm them with `sync`, in ms; default 1000. */
  syncDebounceMs?: number;
  [vendorOption: string]: unknown;
}

/** Event handlers; both the v4 and the v3 names are accepted by both `listen` and `addEventHandler`. */
export interface Handlers {
  onOpened?: (e?: unknown) => void;
  onConnected?: (e?: unknown) => void;
  onClosed?: (e?: unknown) => void;
  onDisconnected?: (e?: unknown) => void;
  onReconnecting?: (e?: unknown) => void;
  onError?: (e: WebIMError) => void;
  onTextMessage?: (m: any) => void;
  onCustomMessage?: (m: any) => void;
  onReadMessage?: (m: any) => void;
  onStatisticMessage?: (m: any) => void;
  onDeliveredMessage?: (m: any) => void;
  onChannelMessage?: (m: any) => void;
  onGroupEvent?: (m: any) => void;
  onGroupChange?: (m: any) => void;
  /** (seen) Another device of this user marked a conversation read. */
  onConversationRead?: (m: any) => void;
  [name: string]: ((e?: any) => void) | undefined;
}

/** What `conn.send` resolves to. */
export interface SendResult {
  localMsgId: string;
  serverMsgId: string;
  message: MessageBody;
  /** (seen) For a group `read`: whether this ack was the reader's first, and the reader count after it. */
  counted?: boolean;
  count?: number;
  /** (seen) For `channel` in a group: how many receipts the conversation ack counted. */
  receiptsCounted?: number;
}

type State = 'closed' | 'connecting' | 'open' | 'reconnecting';

interface Pending {
  op: string;
  data: unknown;
  resolve: (v: any) => void;
  reject: (e: WebIMError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

interface Queued extends Pending {}

/** Ops that are safe to send again after a drop: the server makes them idempotent. */
const idempotentOps = new Set([
  'msg.send', 'receipt.ack', 'receipt.read', 'receipt.delivered', 'conv.ack', 'history', 'conv.list',
  'receipt.readers', 'receipt.unread', 'receipt.counts', 'group.info', 'group.members', 'group.admins', 'group.mine',
]);

// Event names with their aliases, v4 name first.
const aliases: Record<string, [string, string]> = {
  connected: ['onConnected', 'onOpened'],
  disconnected: ['onDisconnected', 'onClosed'],
  group: ['onGroupEvent', 'onGroupChange'],
};

const noop = () => {};

function stripSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** resolveUrls works out the WebSocket and REST endpoints from the options and the page. */
export function resolveUrls(opts: { url?: string; apiUrl?: string }, loc?: { protocol?: string; origin?: string; host?: string }): {
  wsUrl?: string;
  apiUrl?: string;
} {
  const page = loc ?? (globalThis as { location?: { protocol?: string; origin?: string; host?: string } }).location;
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

/** Attach v3 success/error callbacks, and keep a promise whose rejection is handled by them from being reported as unhandled. */
function withCallbacks<T>(opts: any, p: Promise<T>): Promise<T> {
  const success = opts && typeof opts.success === 'function' ? opts.success : undefined;
  const error = opts && typeof opts.error === 'function' ? opts.error : undefined;
  if (success || error) {
    p.then((r) => success?.(r), (e) => error?.(e));
  }
  return p;
}

/**
 * PageCursors maps the vendor's page numbers onto seen's cursors: the cursor of page n is only
 * known after page n-1 was read, so unknown pages are walked to.
 */
class PageCursors {
  private cursors = new Map<string, string[]>();
  async page<T>(key: string, index: number, fetchPage: (cursor: string) => Promise<{ items: T[]; cursor: string }>): Promise<T[]> {
    let known = this.cursors.get(key);
    if (!known) this.cursors.set(key, (known = ['']));
    let i = Math.min(index, known.length - 1);
    for (;;) {
      const { items, cursor } = await fetchPage(known[i]);
      known[i + 1] = cursor;
      if (i === index) return items;
      if (!cursor) return [];
      i++;
    }
  }
}

/** Connection is `WebIM.connection`. */
export class Connection {
  /** The options, as given. */
  readonly options: ConnectionOptions;
  /** The logged-in user, once `open` succeeded. */
  user = '';
  /** This device's id. */
  readonly deviceId: string;
  /** The access token, once `open` succeeded. */
  token = '';

  private readonly wsUrl?: string;
  private readonly apiUrl?: string;
  private state: State = 'closed';
  private sessionOn = false;
  private socket?: SocketLike;
  private nextReqId = 1;
  private pending = new Map<string, Pending>();
  private queue: Queued[] = [];
  private listenHandlers: Handlers = {};
  private eventHandlers = new Map<string, Handlers>();
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private missedPongs = 0;
  private heartbeatMs = 20000;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private attempt = 0;
  private seenIds = new Set<string>();
  private syncAck = 0;
  private syncRunning?: Promise<void>;
  private syncAgain = false;
  private syncTimer?: ReturnType<typeof setTimeout>;
  private statsAck = 0;
  private statsRunning?: Promise<void>;
  private statsAgain = false;
  private statsTimer?: ReturnType<typeof setTimeout>;
  private readCounts = new Map<string, number>();
  /** Messages this connection has acknowledged as read (so trackers never ack twice). */
  readonly acked = new Set<string>();
  private readonly batcher: ReadBatcher;
  private readonly pages = new PageCursors();
  private connectAttemptDone?: (err?: WebIMError) => void;
  /** Bumped by close() and by every open(): an open() whose epoch has passed was interrupted. */
  private epoch = 0;
  /** The latest open(), until close() or another open() interrupts it. */
  private opening?: Promise<unknown>;

  constructor(options: ConnectionOptions = {}) {
    this.options = { ...options };
    const { wsUrl, apiUrl } = resolveUrls(this.options);
    this.wsUrl = wsUrl;
    this.apiUrl = apiUrl;
    this.deviceId = typeof options.deviceId === 'string' && options.deviceId ? options.deviceId : defaultDeviceId();
    if (options.heartBeatWait && options.heartBeatWait > 0) this.heartbeatMs = options.heartBeatWait;
    this.batcher = new ReadBatcher((groupId, items) => this.request('receipt.ack', { groupId, items }));
  }

  // ---- ids ----

  /** getUniqueId returns a new local message id: a decimal numeric string, unique per connection. */
  getUniqueId(): string {
    return uniqueId();
  }

  // ---- handlers ----

  /** listen sets the v3 handlers (replacing those of an earlier call); they get the v3 payload shapes. */
  listen(handlers: Handlers): void {
    this.listenHandlers = { ...handlers };
  }

  /** addEventHandler adds (or replaces) v4 handlers under id; they get the v4 payload shapes. */
  addEventHandler(id: string, handlers: Handlers): void {
    this.eventHandlers.set(String(id), { ...handlers });
  }

  /** removeEventHandler removes the handlers added under id. */
  removeEventHandler(id: string): void {
    this.eventHandlers.delete(String(id));
  }

  private emit(name: string, v4: unknown, v3: unknown = v4): void {
    const names = aliases[name] ?? [name, name];
    const call = (h: Handlers, payload: unknown, first: string, second: string) => {
      const fn = h[first] ?? h[second];
      if (typeof fn !== 'function') return;
      try {
        fn.call(h, payload);
      } catch (err) {
        if (first === 'onError') {
          console.error('seen: an onError handler threw', err);
          return;
        }
        this.emit('onError', clientError(clientCodes.WEBIM_CONNCTION_CALLBACK_INNER_ERROR, `the ${first} handler threw: ${String(err)}`, { cause: err }));
      }
    };
    call(this.listenHandlers, v3, names[1], names[0]);
    for (const h of [...this.eventHandlers.values()]) call(h, v4, names[0], names[1]);
  }

  // ---- REST ----

  private async rest(method: string, path: string, body?: unknown, token?: string): Promise<any> {
    if (!this.apiUrl) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'no apiUrl: pass apiUrl (or url) to new WebIM.connection');
    const f = this.options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!f) throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, 'no fetch: pass fetch to new WebIM.connection');
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await f(this.apiUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, `${method} ${path}: ${String(err)}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (json?.error) throw fromWire(json.error, { status: res.status });
      throw clientError(clientCodes.WEBIM_CONNCTION_AJAX_ERROR, `${method} ${path}: HTTP ${res.status}`, { status: res.status });
    }
    return json;
  }

  /** registerUser creates an account: `{ username, password }`. */
  registerUser(opts: { username: string; password: string; nickname?: string; success?: Function; error?: Function }): Promise<{ type: 0; data: { username: string } }> {
    const p = (async () => {
      if (!opts?.username || !opts.password) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'registerUser needs username and password');
      const r = await this.rest('POST', '/api/v1/users', { username: opts.username, password: opts.password });
      return { type: 0 as const, data: { username: r?.username ?? opts.username } };
    })();
    return withCallbacks(opts, p);
  }

  // ---- open / close ----

  /**
   * open logs in with `{ user, pwd }` (REST token, then the WebSocket) or `{ user, accessToken }`, and
   * resolves `{ accessToken, duration }` (duration: the token's lifetime in seconds, when known) once
   * the WebSocket is authenticated. `onOpened`/`onConnected` fire then; missed messages and receipt
   * statistics follow.
   */
  open(opts: { user: string; pwd?: string; accessToken?: string; success?: Function; error?: Function; [k: string]: unknown }): Promise<{ accessToken: string; duration?: number }> {
    const p = (async () => {
      if (!opts?.user) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'open needs user');
      if (!opts.pwd && !opts.accessToken) throw clientError(clientCodes.WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR, 'open needs pwd or accessToken');
      this.interruptOpen();
      if (this.state !== 'closed') this.shutdown(clientError(clientCodes.REQUEST_ABORT, 'a new open() replaced this session'), false);
      const epoch = ++this.epoch;
      const aborted = () => clientError(clientCodes.REQUEST_ABORT, 'open() was interrupted: close() or another open() was called before it completed');
      let token = opts.accessToken ?? '';
      let duration: number | undefined;
      if (opts.pwd) {
        const r = await this.rest('POST', '/api/v1/token', { username: opts.user, password: opts.pwd });
        // close() (or another open()) while logging in: do not go on to connect.
        if (epoch !== this.epoch) throw aborted();
        token = r.access_token;
        duration = r.expires_in;
      }
      this.user = String(opts.user).toLowerCase();
      this.token = token;
      this.sessionOn = true;
      this.attempt = 0;
      this.watchOnline(true);
      try {
        await this.connect();
      } catch (err) {
        // Interrupted by close() or another open(): that call has already cleaned up; no onError.
        if (epoch !== this.epoch) throw aborted();
        this.sessionOn = false;
        this.watchOnline(false);
        this.state = 'closed';
        this.emit('onError', err);
        throw err;
      }
      const out: { accessToken: string; duration?: number } = { accessToken: token };
      if (duration !== undefined) out.duration = duration;
      return out;
    })();
    this.opening = p;
    return withCallbacks(opts, p);
  }

  /**
   * interruptOpen marks an open() in progress as interrupted by the app: it still rejects with
   * REQUEST_ABORT for a caller that awaits it, but an app that did not (a v3 app that waits for
   * onOpened) gets no unhandled rejection for a close it asked for.
   */
  private interruptOpen(): void {
    this.epoch++;
    this.opening?.catch(noop);
    this.opening = undefined;
  }

  /** isOpened reports whether the WebSocket is authenticated now. */
  isOpened(): boolean {
    return this.state === 'open';
  }

  /**
   * close ends the session: the WebSocket is closed, nothing reconnects, pending requests fail with
   * REQUEST_ABORT. It is quiet in every state (never opened, logging in, connecting,
   * authenticating, open, waiting to reconnect, already closed): it never throws and fires no
   * onError; an open() it interrupts rejects with REQUEST_ABORT.
   */
  close(): void {
    this.interruptOpen();
    if (!this.sessionOn && this.state === 'closed') return;
    this.shutdown(clientError(clientCodes.REQUEST_ABORT, 'the connection was closed'), true);
  }

  /** (seen) logout revokes the access token on the server, then closes. */
  async logout(): Promise<void> {
    const token = this.token;
    this.close();
    if (token) await this.rest('DELETE', '/api/v1/token', undefined, token).catch(noop);
  }

  private shutdown(err: WebIMError, notify: boolean): void {
    const wasOn = this.sessionOn;
    this.sessionOn = false;
    this.watchOnline(false);
    this.state = 'closed';
    this.stopTimers();
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      detach(s);
      try {
        s.close(closeCodes.normal, 'client close');
      } catch {
        // already closing
      }
    }
    this.failPending(err, false);
    for (const q of this.queue.splice(0)) q.reject(err);
    this.connectAttemptDone?.(err);
    if (notify && wasOn) this.emit('disconnected', undefined);
  }

  private stopTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.syncTimer);
    clearTimeout(this.statsTimer);
    this.heartbeatTimer = this.reconnectTimer = this.syncTimer = this.statsTimer = undefined;
  }

  private failPending(err: WebIMError, requeue: boolean): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      if (requeue && idempotentOps.has(p.op)) this.queue.push(p);
      else p.reject(err);
    }
  }

  /** connect opens a socket and authenticates; it settles when auth succeeds or the attempt fails. */
  private connect(): Promise<void> {
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: SocketCtor }).WebSocket;
    if (!this.wsUrl) return Promise.reject(clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'no url: pass url to new WebIM.connection'));
    if (!Ctor) return Promise.reject(clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'no WebSocket: pass the WebSocket option (the ws package in Node)'));
    this.state = this.state === 'reconnecting' ? 'reconnecting' : 'connecting';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: WebIMError) => {
        if (settled) return;
        settled = true;
        this.connectAttemptDone = undefined;
        clearTimeout(authTimer);
        if (err) reject(err);
        else resolve();
      };
      this.connectAttemptDone = done;
      let socket: SocketLike;
      try {
        socket = new Ctor(this.wsUrl!);
      } catch (err) {
        done(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, `cannot open ${this.wsUrl}: ${String(err)}`));
        return;
      }
      this.socket = socket;
      const authTimer = setTimeout(() => {
        if (this.socket === socket) this.dropSocket(socket);
        done(clientError(clientCodes.REQUEST_TIMEOUT, 'no answer to auth'));
      }, this.options.requestTimeout ?? 20000);
      socket.onmessage = (ev) => this.onFrame(socket, ev.data);
      socket.onerror = noop; // a close event follows
      socket.onclose = (ev) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        const code = typeof ev?.code === 'number' ? ev.code : 1006;
        const reason = typeof ev?.reason === 'string' ? ev.reason : '';
        if (!settled) {
          done(closeError(code, reason));
          return;
        }
        this.onDrop(code, reason);
      };
      socket.onopen = () => {
        this.rawRequest(socket, 'auth', { token: this.token, device: this.deviceId, version: protocolVersion }, false).then(
          (r: AuthReply) => {
            if (this.socket !== socket) return;
            if (!this.options.heartBeatWait && r?.heartbeatMs && r.heartbeatMs > 0) this.heartbeatMs = r.heartbeatMs;
            if (r?.user) this.user = r.user;
            this.state = 'open';
            this.attempt = 0;
            this.startHeartbeat(socket);
            done();
            this.emit('connected', undefined);
            this.flushQueue();
            this.runSync();
            this.runStats(true);
          },
          (err: WebIMError) => {
            if (this.socket === socket) this.dropSocket(socket);
            done(err);
          },
        );
      };
    });
  }

  /** dropSocket forgets a socket without waiting for its close handshake. */
  private dropSocket(socket: SocketLike): void {
    detach(socket);
    if (this.socket === socket) this.socket = undefined;
    try {
      socket.close();
    } catch {
      // already closed
    }
  }

  private onDrop(code: number, reason: string): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    const queue = !!this.options.queueWhileDisconnected;
    this.failPending(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, 'the connection dropped before the reply came', { closeCode: code }), queue);
    if (!this.sessionOn) return;
    if (code === closeCodes.authFailed || code === closeCodes.tokenRevoked) {
      this.endSession(closeError(code, reason));
      return;
    }
    if (code === closeCodes.normal) {
      this.shutdown(clientError(clientCodes.WEBIM_CONNECTION_CLOSED, 'the server closed the connection', { closeCode: code }), true);
      return;
    }
    this.state = 'reconnecting';
    this.scheduleReconnect();
  }

  private endSession(err: WebIMError): void {
    this.emit('onError', err);
    this.shutdown(err, true);
  }

  /**
   * reconnectNow skips the rest of the backoff wait and reconnects at once, when the connection is
   * waiting to reconnect. The SDK calls it itself when the browser goes back online.
   */
  reconnectNow(): void {
    if (this.state !== 'reconnecting' || this.reconnectTimer === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempt = 0;
    this.reconnectAttempt();
  }

  private readonly onOnline = (): void => this.reconnectNow();

  /** watchOnline follows the browser's `online` event while a session is on (no-op elsewhere). */
  private watchOnline(on: boolean): void {
    const w = (globalThis as { window?: { addEventListener?: Function; removeEventListener?: Function } }).window;
    if (!w?.addEventListener || !w.removeEventListener) return;
    if (on) w.addEventListener('online', this.onOnline);
    else w.removeEventListener('online', this.onOnline);
  }

  private scheduleReconnect(): void {
    const max = typeof this.options.autoReconnectNumMax === 'number' ? this.options.autoReconnectNumMax : Infinity;
    if (this.attempt >= max) {
      this.endSession(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, `gave up reconnecting after ${this.attempt} attempts`));
      return;
    }
    const delay = backoffDelay(this.attempt, { baseMs: this.options.reconnectBaseMs, maxMs: this.options.reconnectMaxMs, random: this.options.random as (() => number) | undefined });
    this.attempt++;
    // The timer first: a close() from an onReconnecting handler then cancels it.
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconnectAttempt();
    }, delay);
    this.emit('onReconnecting', { attempt: this.attempt, delay });
  }

  private reconnectAttempt(): void {
    if (!this.sessionOn) return;
    this.connect().catch((err: WebIMError) => {
      if (!this.sessionOn) return;
      if (err.type === serverCodes.unauthorized || err.type === serverCodes.token_expired) {
        this.endSession(err);
        return;
      }
      this.state = 'reconnecting';
      this.scheduleReconnect();
    });
  }

  private startHeartbeat(socket: SocketLike): void {
    clearInterval(this.heartbeatTimer);
    this.missedPongs = 0;
    this.heartbeatTimer = setInterval(() => {
      if (this.socket !== socket) return;
      if (this.missedPongs >= 2) {
        // Two pings unanswered: the connection is dead even if the socket does not know it.
        this.dropSocket(socket);
        this.onDrop(1006, 'heartbeat timeout');
        return;
      }
      this.missedPongs++;
      this.rawRequest(socket, 'ping', {}, false).catch(noop);
    }, this.heartbeatMs);
  }

  // ---- frames ----

  private rawRequest(socket: SocketLike, op: string, data: unknown, track = true): Promise<any> {
    return new Promise((resolve, reject) => {
      const id = String(this.nextReqId++);
      const p: Pending = { op, data, resolve, reject };
      this.pending.set(id, p);
      p.timer = setTimeout(() => {
        this.pending.delete(id);
        reject(clientError(clientCodes.REQUEST_TIMEOUT, `no reply to ${op}`));
      }, this.options.requestTimeout ?? 20000);
      try {
        socket.send(JSON.stringify(data === undefined ? { id, op } : { id, op, data }));
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        reject(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, `cannot send ${op}: ${String(err)}`));
      }
      void track;
    });
  }

  /** request sends op once the session is open; see queueWhileDisconnected. */
  request<T = any>(op: string, data: unknown): Promise<T> {
    if (!this.sessionOn) return Promise.reject(clientError(clientCodes.WEBIM_CONNECTION_CLOSED, `not logged in: call open() before ${op}`));
    if (this.state !== 'open' || !this.socket) {
      if (this.options.queueWhileDisconnected) {
        return new Promise((resolve, reject) => this.queue.push({ op, data, resolve, reject }));
      }
      return Promise.reject(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, `not connected (reconnecting): ${op} was not sent`));
    }
    return this.rawRequest(this.socket, op, data);
  }

  private flushQueue(): void {
    const q = this.queue.splice(0);
    for (const item of q) this.request(item.op, item.data).then(item.resolve, item.reject);
  }

  private onFrame(socket: SocketLike, raw: unknown): void {
    if (this.socket !== socket) return;
    this.missedPongs = 0;
    let text: string;
    if (typeof raw === 'string') text = raw;
    else if (raw instanceof ArrayBuffer) text = new TextDecoder().decode(raw);
    else text = String(raw);
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      this.emit('onError', clientError(clientCodes.REQUEST_UNKNOWN, 'a frame that is not JSON', { frame: text.slice(0, 200) }));
      return;
    }
    if (frame && typeof frame.push === 'string') {
      this.onPush(frame as PushFrame);
      return;
    }
    if (frame && frame.id !== undefined) {
      const r = frame as ReplyFrame;
      const p = this.pending.get(String(r.id));
      if (!p) return;
      this.pending.delete(String(r.id));
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.data ?? {});
      else p.reject(fromWire(r.error, { op: p.op }));
    }
  }

  /** onPush turns a push into events. Exposed for tests through handleFrame. */
  private onPush(f: PushFrame): void {
    const d = f.data ?? {};
    switch (f.push) {
      case 'msg':
        this.deliver(d as WireMessage);
        this.scheduleSync();
        break;
      case 'receipt':
        this.onReceipt(d as ReceiptPush);
        this.scheduleStats();
        break;
      case 'read':
      case 'delivery': {
        const r = d as PeerReceiptPush;
        if (this.firstSight(r.id)) this.peerReceipt(f.push, { id: r.id, from: r.from, to: r.to, mid: r.mid, time: r.timestamp });
        // The receipt is stored in the stream: confirm it so that it does not come back.
        if (r.id) this.scheduleSync();
        break;
      }
      case 'channel': {
        const c = d as ChannelPush;
        if (this.firstSight(c.id)) this.peerReceipt('channel', { id: c.id, chatType: c.chatType, from: c.from, to: c.to, time: c.timestamp });
        if (c.id) this.scheduleSync();
        break;
      }
      case 'conv.read': {
        const c = d as ConvReadPush;
        this.emit('onConversationRead', { chatType: c.chatType, to: c.to, seq: c.seq });
        break;
      }
      case 'group': {
        const g = d as GroupPush;
        const v4 = { operation: g.op, id: g.groupId, name: g.groupName ?? '', from: g.actor, to: this.user, userId: g.users?.[0], users: g.users ?? [], time: g.timestamp };
        const v3 = { type: g.op, gid: g.groupId, groupName: g.groupName ?? '', from: g.actor, to: this.user, users: g.users ?? [], time: String(g.timestamp ?? '') };
        this.emit('group', v4, v3);
        break;
      }
      case 'resync':
        // The server's node lost the cluster bus for a while: catch up from the store as after a
        // reconnect. Counts that changed arrive as one onStatisticMessage.
        void this.runSync();
        void this.runStats(true);
        break;
      default:
        // A push this version does not know: newer servers may add some.
        break;
    }
  }

  /** maxCount records a reader count for mid and returns the largest seen: counts never go backwards. */
  private maxCount(mid: string, count: number): number {
    const prev = this.readCounts.get(mid) ?? 0;
    const n = Math.max(prev, typeof count === 'number' ? count : 0);
    this.readCounts.set(mid, n);
    return n;
  }

  private onReceipt(r: ReceiptPush): void {
    const count = this.maxCount(r.mid, r.count);
    const id = uniqueId();
    const groupReadCount = { [r.mid]: count };
    const v4 = { id, type: 'read', from: r.from, to: r.groupId, mid: r.mid, groupReadCount, ackContent: r.ackContent ?? '', time: r.timestamp };
    const v3 = { mid: r.mid, groupReadCount: { ...groupReadCount }, ackContent: r.ackContent ?? '', from: r.from, to: r.groupId };
    this.emit('onReadMessage', v4, v3);
  }

  /** firstSight reports whether a pushed receipt is new (true when it has no id), and remembers it. */
  private firstSight(id: string | undefined): boolean {
    if (typeof id !== 'string' || !id) return true;
    if (this.seenIds.has(id)) return false;
    this.remember(id);
    return true;
  }

  /**
   * peerReceipt fires the event of a single-chat receipt, live (a push) or stored (from sync), in
   * the same shapes either way. Its id is the stored receipt's server id when known.
   */
  private peerReceipt(kind: string, r: { id?: string; from: string; to: string; mid?: string; chatType?: string; time: number }): void {
    const id = r.id || uniqueId();
    const time = String(r.time ?? '');
    if (kind === 'channel') {
      const chatType = r.chatType ?? 'singleChat';
      this.emit('onChannelMessage', { id, type: 'channel', chatType, from: r.from, to: r.to, time: r.time }, { id, type: 'channel', chatType, from: r.from, to: r.to, time });
      return;
    }
    const event = kind === 'read' ? 'onReadMessage' : 'onDeliveredMessage';
    this.emit(event, { id, type: kind, from: r.from, to: r.to, mid: r.mid, time: r.time }, { id, mid: r.mid, from: r.from, to: r.to, time });
  }

  private deliver(m: WireMessage): void {
    if (!m || typeof m.id !== 'string') return;
    if (this.seenIds.has(m.id)) return;
    this.remember(m.id);
    if (m.type === 'read' || m.type === 'delivery' || m.type === 'channel') {
      // A stored single-chat receipt that this device missed live.
      this.peerReceipt(m.type, { id: m.id, from: m.from, to: m.to, mid: m.mid, chatType: m.chatType, time: m.time });
      return;
    }
    if (typeof m.readCount === 'number') this.maxCount(m.id, m.readCount);
    if (m.type === 'txt') this.emit('onTextMessage', toV4(m), toV3(m));
    else if (m.type === 'custom') this.emit('onCustomMessage', toV4(m), toV3(m));
    if (this.options.delivery && m.chatType === 'singleChat' && m.from !== this.user) {
      this.request('receipt.delivered', { to: m.from, msgId: m.id }).catch(noop);
    }
  }

  private remember(id: string): void {
    this.seenIds.add(id);
    if (this.seenIds.size > 20000) {
      // Forget the oldest half: sync confirmations keep old messages from coming back anyway.
      let n = 10000;
      for (const old of this.seenIds) {
        if (n-- <= 0) break;
        this.seenIds.delete(old);
      }
    }
  }

  // ---- catching up ----

  private scheduleSync(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.runSync();
    }, this.options.syncDebounceMs ?? 1000);
  }

  private scheduleStats(): void {
    clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      this.runStats(false);
    }, this.options.syncDebounceMs ?? 1000);
  }

  /**
   * runSync pages through `sync` until the stream is confirmed: each request confirms the `next`
   * of the page before, and the loop ends when a confirmation brings nothing new.
   */
  private runSync(): Promise<void> {
    if (this.syncRunning) {
      this.syncAgain = true;
      return this.syncRunning;
    }
    const run = async () => {
      let ack = this.syncAck;
      for (;;) {
        const r = await this.request<SyncReply>('sync', { ack, limit: 100 });
        this.syncAck = ack;
        for (const m of r.messages ?? []) this.deliver(m);
        if (!r.more && r.next <= ack) return;
        ack = r.next;
      }
    };
    this.syncRunning = run()
      .catch((err: WebIMError) => {
        if (err.type === serverCodes.bad_request && this.syncAck > 0) {
          // Our position is beyond the stream (the server's data was reset): start over.
          this.syncAck = 0;
          this.syncAgain = true;
          return;
        }
        if (err.type !== clientCodes.WEBIM_CONNCTION_DISCONNECTED && err.type !== clientCodes.WEBIM_CONNECTION_CLOSED && err.type !== clientCodes.REQUEST_ABORT) this.emit('onError', err);
      })
      .finally(() => {
        this.syncRunning = undefined;
        if (this.syncAgain) {
          this.syncAgain = false;
          void this.runSync();
        }
      });
    return this.syncRunning;
  }

  /**
   * runStats pages through `receipt.stats` like runSync. After a (re)connect (all = true) it fires
   * onStatisticMessage once with every entry; after live receipts it only confirms them, and
   * reports entries whose count is above what was seen live.
   */
  private runStats(all: boolean): Promise<void> {
    if (this.statsRunning) {
      this.statsAgain = this.statsAgain || !all;
      if (all) return this.statsRunning.then(() => this.runStats(true));
      return this.statsRunning;
    }
    const run = async () => {
      let ack = this.statsAck;
      const entries = new Map<string, StatsEntry>();
      for (;;) {
        const r = await this.request<StatsReply>('receipt.stats', { ack, limit: 500 });
        this.statsAck = ack;
        for (const e of r.entries ?? []) {
          const before = this.readCounts.get(e.mid) ?? 0;
          const count = this.maxCount(e.mid, e.count);
          if (all || count > before) entries.set(e.mid, { ...e, count });
        }
        if (!r.more && r.next <= ack) break;
        ack = r.next;
      }
      if (entries.size === 0) return;
      const groupAck = [...entries.values()].map((e) => ({ mid: e.mid, groupId: e.groupId, count: e.count, from: e.from, ackContent: e.ackContent ?? '', timestamp: e.timestamp }));
      const payload = { operation: 0, location: JSON.stringify({ group_ack: groupAck }) };
      this.emit('onStatisticMessage', payload, { ...payload });
    };
    this.statsRunning = run()
      .catch((err: WebIMError) => {
        if (err.type === serverCodes.bad_request && this.statsAck > 0) {
          this.statsAck = 0;
          this.statsAgain = true;
          return;
        }
        if (err.type !== clientCodes.WEBIM_CONNCTION_DISCONNECTED && err.type !== clientCodes.WEBIM_CONNECTION_CLOSED && err.type !== clientCodes.REQUEST_ABORT) this.emit('onError', err);
      })
      .finally(() => {
        this.statsRunning = undefined;
        if (this.statsAgain) {
          this.statsAgain = false;
          void this.runStats(false);
        }
      });
    return this.statsRunning;
  }

  // ---- sending ----

  /**
   * send sends a message body (v3 `m.body`, or a v4 message): txt and custom messages, and the
   * receipts `read` (group: batched `receipt.ack`; single chat: `receipt.read`), `delivery`, and
   * `channel` (conversation ack). It resolves `{ localMsgId, serverMsgId, message }` and calls the
   * body's `success(localId, serverMsgId)` / `fail(err)`.
   */
  send(msg: MessageBody | Message): Promise<SendResult> {
    const body: MessageBody = msg instanceof Message ? msg.body : msg;
    const p = this.sendBody(body);
    p.then(
      (r) => body?.success?.(r.localMsgId, r.serverMsgId),
      (e) => body?.fail?.(e),
    );
    // A v3 app learns the outcome from success/fail and never looks at the promise.
    if (body && (isV3Body(body) || typeof body.fail === 'function')) p.catch(noop);
    return p;
  }

  private async sendBody(body: MessageBody): Promise<SendResult> {
    if (!body || typeof body !== 'object') throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'send needs a message');
    if (typeof body.chatType === 'string' && /^chatroom$/i.test(body.chatType)) {
      throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'seen has no chat rooms: use chatType groupChat');
    }
    const { success: _s, fail: _f, ...plain } = body;
    const message = plain as MessageBody;
    const chatType = normalizeChatType(body.chatType, body);
    switch (body.type) {
      case 'txt':
      case 'custom': {
        const data = sendRequest(body);
        const r = await this.request<SendReply>('msg.send', data);
        this.remember(r.id);
        this.scheduleSync();
        return { localMsgId: String(data.localId), serverMsgId: r.id, message: { ...message, id: r.id, from: this.user, time: r.time, chatType } };
      }
      case 'read': {
        const mid = String(body.id ?? '');
        if (!mid || !body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a read receipt needs id (the message read) and to');
        if (chatType === 'groupChat') {
          const item: AckItem = { msgId: mid };
          if (body.ackContent !== undefined && body.ackContent !== null) item.ackContent = typeof body.ackContent === 'string' ? body.ackContent : JSON.stringify(body.ackContent);
          const r = await this.ackGroup(String(body.to), [item])[0];
          return { localMsgId: mid, serverMsgId: '', message, counted: !!r.counted, count: r.count };
        }
        await this.request('receipt.read', { to: String(body.to), msgId: mid });
        this.acked.add(mid);
        return { localMsgId: mid, serverMsgId: '', message };
      }
      case 'delivery': {
        const mid = String(body.id ?? '');
        if (!mid || !body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a delivery receipt needs id (the message delivered) and to');
        await this.request('receipt.delivered', { to: String(body.to), msgId: mid });
        return { localMsgId: mid, serverMsgId: '', message };
      }
      case 'channel': {
        if (!body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a channel ack needs to');
        const r = await this.request<{ receiptsCounted?: number }>('conv.ack', { chatType, to: String(body.to) });
        return { localMsgId: String(body.id ?? ''), serverMsgId: '', message, receiptsCounted: r?.receiptsCounted ?? 0 };
      }
      default:
        throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, `message type ${JSON.stringify(body.type)} is not supported by seen (txt, custom, read, delivery, channel)`);
    }
  }

  /**
   * ackGroup acknowledges messages of one group as read, batched with other acks of this tick;
   * one promise per item. Acked ids are remembered so that nothing is acked twice.
   */
  ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[] {
    return items.map((item) =>
      this.batcher.add(groupId, item).then((r) => {
        this.acked.add(item.msgId);
        return r;
      }),
    );
  }

  // ---- read tracking ----

  /** readTracker acknowledges receipt-requesting group messages once the user has really seen them. */
  readTracker(opts: ReadTrackerOptions = {}): ReadTracker {
    return new ReadTracker(this, opts);
  }

  // ---- history and conversations ----

  /**
   * getHistoryMessages pages through a conversation: `{ targetId, chatType, cursor, pageSize,
   * searchDirection: 'up' (older, default) | 'down' (newer) }` -> `{ cursor, messages, isLast }`.
   */
  getHistoryMessages(opts: { targetId: string; chatType?: string; cursor?: string | number | null; pageSize?: number; searchDirection?: 'up' | 'down'; [k: string]: unknown }): Promise<{ cursor: string; messages: any[]; isLast: boolean }> {
    const p = (async () => {
      if (!opts?.targetId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getHistoryMessages needs targetId');
      const data: Record<string, unknown> = { chatType: normalizeChatType(opts.chatType), to: String(opts.targetId) };
      const c = opts.cursor;
      if (c !== undefined && c !== null && c !== '' && String(c) !== '-1') data.cursor = String(c);
      if (opts.pageSize) data.limit = opts.pageSize;
      data.direction = opts.searchDirection === 'down' ? 'newer' : 'older';
      const r = await this.request<{ messages: WireMessage[]; cursor: string; isLast: boolean }>('history', data);
      const messages = (r.messages ?? []).map((m) => {
        if (typeof m.readCount === 'number') m.readCount = this.maxCount(m.id, m.readCount);
        // History is where the server carries the read state (docs/protocol.md): my single-chat
        // messages there always have isRead / isDelivered.
        return toV4(m, this.user);
      });
      return { cursor: r.cursor ?? '', messages, isLast: !!r.isLast };
    })();
    return withCallbacks(opts, p);
  }

  private async convPage(opts: { pageSize?: number; cursor?: string } = {}): Promise<{ conversations: WireConversation[]; cursor: string }> {
    const data: Record<string, unknown> = {};
    if (opts.cursor) data.cursor = String(opts.cursor);
    if (opts.pageSize) data.limit = opts.pageSize;
    const r = await this.request<{ conversations: WireConversation[]; cursor: string }>('conv.list', data);
    return { conversations: r.conversations ?? [], cursor: r.cursor ?? '' };
  }

  /**
   * getServerConversations lists conversations, newest first, with seen's unread counts:
   * `{ data: { conversations: [{ conversationId, conversationType, lastMessage, unReadCount }], cursor } }`.
   */
  getServerConversations(opts: { pageSize?: number; cursor?: string; success?: Function; error?: Function } = {}): Promise<{ type: 0; data: { conversations: any[]; cursor: string } }> {
    const p = this.convPage(opts).then(({ conversations, cursor }) => ({
      type: 0 as const,
      data: {
        conversations: conversations.map((c) => ({
          conversationId: c.to,
          conversationType: c.chatType,
          lastMessage: c.lastMessage ? toV4(c.lastMessage) : undefined,
          unReadCount: c.unread ?? 0,
        })),
        cursor,
      },
    }));
    return withCallbacks(opts, p);
  }

  /**
   * getConversationlist is the older listing: every conversation (all pages), as
   * `{ data: { channel_infos: [{ channel_id, chatType, lastMessage, unread_num, meta }] } }`.
   */
  getConversationlist(opts: { pageSize?: number; success?: Function; error?: Function } = {}): Promise<{ type: 0; data: { channel_infos: any[] } }> {
    const p = (async () => {
      const all: WireConversation[] = [];
      let cursor = '';
      for (let i = 0; i < 1000; i++) {
        const page = await this.convPage({ cursor, pageSize: opts.pageSize ?? 100 });
        all.push(...page.conversations);
        if (!page.cursor) break;
        cursor = page.cursor;
      }
      return {
        type: 0 as const,
        data: {
          channel_infos: all.map((c) => ({
            channel_id: c.to,
            chatType: c.chatType,
            lastMessage: c.lastMessage ? toV4(c.lastMessage) : undefined,
            unread_num: c.unread ?? 0,
            meta: {},
          })),
        },
      };
    })();
    return withCallbacks(opts, p);
  }

  // ---- read receipts ----

  /**
   * getGroupMsgReadUser lists the readers of a group message: `{ msgId, groupId, pageSize?, cursor?,
   * order? }` -> `{ type: 0, data: { ackmid, total, userlist, users: [{ username, time, ackContent }],
   * is_last, next_key, timestamp } }`. (seen) `order`: 'asc' (default, oldest read first) or 'desc'
   * (newest first); pass `next_key` back as `cursor` with the same order for the next page.
   */
  getGroupMsgReadUser(opts: { msgId: string; groupId: string; pageSize?: number; cursor?: string; order?: 'asc' | 'desc'; success?: Function; error?: Function }): Promise<any> {
    const p = (async () => {
      if (!opts?.msgId || !opts.groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgReadUser needs msgId and groupId');
      if (opts.order !== undefined && opts.order !== 'asc' && opts.order !== 'desc') throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, `getGroupMsgReadUser: order must be 'asc' or 'desc', not ${JSON.stringify(opts.order)}`);
      const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
      if (opts.cursor) data.cursor = String(opts.cursor);
      if (opts.pageSize) data.limit = opts.pageSize;
      if (opts.order) data.order = opts.order;
      const r = await this.request<{ total: number; users: { username: string; time: number; ackContent?: string }[]; cursor: string; isLast: boolean }>('receipt.readers', data);
      const users = (r.users ?? []).map((u) => ({ username: u.username, time: u.time, ackContent: u.ackContent ?? '' }));
      this.maxCount(String(opts.msgId), r.total ?? 0);
      return {
        type: 0,
        data: { ackmid: String(opts.msgId), total: r.total ?? users.length, userlist: users.map((u) => u.username), users, is_last: !!r.isLast, next_key: r.cursor ?? '', timestamp: Date.now() },
      };
    })();
    return withCallbacks(opts, p);
  }

  /** (seen) getGroupMsgUnreadUser lists the members who have not read it: `{ type: 0, data: { total, userlist, is_last, next_key } }`. */
  getGroupMsgUnreadUser(opts: { msgId: string; groupId: string; pageSize?: number; cursor?: string; success?: Function; error?: Function }): Promise<any> {
    const p = (async () => {
      if (!opts?.msgId || !opts.groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgUnreadUser needs msgId and groupId');
      const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
      if (opts.cursor) data.cursor = String(opts.cursor);
      if (opts.pageSize) data.limit = opts.pageSize;
      const r = await this.request<{ total: number; users: string[]; cursor: string; isLast: boolean }>('receipt.unread', data);
      return { type: 0, data: { total: r.total ?? 0, userlist: r.users ?? [], is_last: !!r.isLast, next_key: r.cursor ?? '' } };
    })();
    return withCallbacks(opts, p);
  }

  /**
   * (seen) getGroupMsgReadCount returns reader counts: `{ groupId, msgIds, withUnread? }` ->
   * `{ type: 0, data: { [msgId]: count } }`; with `withUnread: true` also `unread: { [msgId]: n }`,
   * the members who may read each message and have not yet (so "read by count of count + n").
   * One request per 100 ids; each unread total costs the server a count over the group's members.
   */
  getGroupMsgReadCount(opts: { groupId: string; msgIds: string[]; withUnread?: boolean; success?: Function; error?: Function }): Promise<{ type: 0; data: Record<string, number>; unread?: Record<string, number> }> {
    const p = (async () => {
      if (!opts?.groupId || !Array.isArray(opts.msgIds)) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgReadCount needs groupId and msgIds');
      const out: Record<string, number> = {};
      const unread: Record<string, number> = {};
      const ids = opts.msgIds.map(String);
      for (let i = 0; i < ids.length; i += maxAckBatch) {
        const data: Record<string, unknown> = { groupId: String(opts.groupId), msgIds: ids.slice(i, i + maxAckBatch) };
        if (opts.withUnread) data.withUnread = true;
        const r = await this.request<{ counts: Record<string, number>; unread?: Record<string, number> }>('receipt.counts', data);
        for (const [mid, n] of Object.entries(r.counts ?? {})) out[mid] = this.maxCount(mid, n);
        Object.assign(unread, r.unread ?? {});
      }
      return opts.withUnread ? { type: 0 as const, data: out, unread } : { type: 0 as const, data: out };
    })();
    return withCallbacks(opts, p);
  }

  // ---- groups ----

  private groupCall<T>(opts: any, f: () => Promise<T>): Promise<T> {
    return withCallbacks(opts, f());
  }

  /** createGroup (v3/v4): `{ data: { groupname, desc, members, public, maxusers, ... } }` -> `{ data: { groupid } }`. */
  createGroup(opts: { data: { groupname: string; desc?: string; members?: string[]; public?: boolean; maxusers?: number; approval?: boolean; allowinvites?: boolean; inviteNeedConfirm?: boolean; ext?: unknown; [k: string]: unknown }; success?: Function; error?: Function }): Promise<{ type: 0; data: { groupid: string } }> {
    return this.groupCall(opts, async () => {
      const d = opts?.data ?? ({} as any);
      const g = await this.createRaw(d.groupname, d.desc, d.public, d.maxusers, d.members, d.ext);
      return { type: 0 as const, data: { groupid: g.groupId } };
    });
  }

  /** createGroupVNext (v4): `{ groupName, description, members, isPublic, maxUsers, ... }` -> `{ data: { groupId } }`. */
  createGroupVNext(opts: { groupName: string; description?: string; members?: string[]; isPublic?: boolean; maxUsers?: number; extension?: unknown; [k: string]: unknown }): Promise<{ type: 0; data: { groupId: string } }> {
    return this.groupCall(opts, async () => {
      const g = await this.createRaw(opts?.groupName, opts?.description, opts?.isPublic, opts?.maxUsers, opts?.members, opts?.extension);
      return { type: 0 as const, data: { groupId: g.groupId } };
    });
  }

  private createRaw(name: unknown, description: unknown, isPublic: unknown, max: unknown, members: unknown, ext: unknown): Promise<WireGroup> {
    if (!name) return Promise.reject(clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a group needs a name'));
    const data: Record<string, unknown> = { name: String(name) };
    if (description) data.description = String(description);
    if (typeof isPublic === 'boolean') data.public = isPublic;
    if (typeof max === 'number' && max > 0) data.maxMembers = max;
    if (Array.isArray(members) && members.length) data.members = members.map(String);
    const e = parseExt(ext);
    if (e) data.ext = e;
    return this.request<WireGroup>('group.create', data);
  }

  /** inviteUsersToGroup adds members: `{ groupId, users }`. */
  inviteUsersToGroup(opts: { groupId: string; users: string[] }): Promise<any> {
    return this.groupCall(opts, async () => {
      const r = await this.request<{ added: string[] }>('group.add', { groupId: String(opts.groupId), users: (opts.users ?? []).map(String) });
      return { type: 0, data: (r.added ?? []).map((user) => ({ result: true, action: 'add_member', user, groupid: String(opts.groupId) })) };
    });
  }

  /** inviteToGroup is the v3 name of inviteUsersToGroup. */
  inviteToGroup(opts: { groupId: string; users: string[] }): Promise<any> {
    return this.inviteUsersToGroup(opts);
  }

  /** setAdmin makes a member an admin: `{ groupId, username }`. */
  setAdmin(opts: { groupId: string; username: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.setAdmin', { groupId: String(opts.groupId), user: String(opts.username) });
      return { type: 0, data: { result: 'success', newadmin: opts.username } };
    });
  }

  /** setGroupAdmin is the v3 name of setAdmin. */
  setGroupAdmin(opts: { groupId: string; username: string }): Promise<any> {
    return this.setAdmin(opts);
  }

  /** removeAdmin makes an admin a plain member again: `{ groupId, username }`. */
  removeAdmin(opts: { groupId: string; username: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.removeAdmin', { groupId: String(opts.groupId), user: String(opts.username) });
      return { type: 0, data: { result: 'success', oldadmin: opts.username } };
    });
  }

  /** removeGroupAdmin is the v3 name of removeAdmin. */
  removeGroupAdmin(opts: { groupId: string; username: string }): Promise<any> {
    return this.removeAdmin(opts);
  }

  /** removeGroupMember removes a member: `{ groupId, username }`. */
  removeGroupMember(opts: { groupId: string; username: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.remove', { groupId: String(opts.groupId), user: String(opts.username) });
      return { type: 0, data: { result: true, action: 'remove_member', user: opts.username, groupid: String(opts.groupId) } };
    });
  }

  /** changeGroupOwner hands the group to another member: `{ groupId, newOwner }`. */
  changeGroupOwner(opts: { groupId: string; newOwner: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.transfer', { groupId: String(opts.groupId), user: String(opts.newOwner) });
      return { type: 0, data: { newowner: opts.newOwner } };
    });
  }

  /** leaveGroup: `{ groupId }`. */
  leaveGroup(opts: { groupId: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.leave', { groupId: String(opts.groupId) });
      return { type: 0, data: { result: true, action: 'quit', groupid: String(opts.groupId), user: this.user } };
    });
  }

  /** quitGroup is the v3 name of leaveGroup. */
  quitGroup(opts: { groupId: string }): Promise<any> {
    return this.leaveGroup(opts);
  }

  /** destroyGroup (owner only): `{ groupId }`. */
  destroyGroup(opts: { groupId: string }): Promise<any> {
    return this.groupCall(opts, async () => {
      await this.request('group.destroy', { groupId: String(opts.groupId) });
      return { type: 0, data: { success: true, groupid: String(opts.groupId) } };
    });
  }

  /** dissolveGroup is the v3 name of destroyGroup. */
  dissolveGroup(opts: { groupId: string }): Promise<any> {
    return this.destroyGroup(opts);
  }

  /** getGroupInfo: `{ groupId }` (one id, an array, or comma-separated) -> `{ data: [group] }`. */
  getGroupInfo(opts: { groupId: string | string[] }): Promise<{ type: 0; data: any[] }> {
    return this.groupCall(opts, async () => {
      const ids = Array.isArray(opts?.groupId) ? opts.groupId : String(opts?.groupId ?? '').split(',').filter(Boolean);
      if (!ids.length) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupInfo needs groupId');
      const groups = await Promise.all(ids.map((id) => this.request<WireGroup>('group.info', { groupId: String(id).trim() })));
      return { type: 0 as const, data: groups.map(groupInfo) };
    });
  }

  /**
   * getGroupMembers pages the members: `{ groupId, cursor?, limit? | pageSize? }` ->
   * `{ data: { members: [{ owner|member: username, username, role, joinedAt }], cursor } }`.
   */
  getGroupMembers(opts: { groupId: string; cursor?: string; limit?: number; pageSize?: number }): Promise<{ type: 0; data: { members: any[]; cursor: string } }> {
    return this.groupCall(opts, async () => {
      const r = await this.membersPage(opts.groupId, opts.cursor ?? '', opts.limit ?? opts.pageSize);
      return { type: 0 as const, data: { members: r.items, cursor: r.cursor } };
    });
  }

  /** listGroupMembers is the v3 listing, by page number (from 1): `{ groupId, pageNum, pageSize }` -> `{ data: [{ owner|member: username }] }`. */
  listGroupMembers(opts: { groupId: string; pageNum?: number; pageSize?: number }): Promise<{ type: 0; data: any[] }> {
    return this.groupCall(opts, async () => {
      const size = opts.pageSize ?? 20;
      const index = Math.max(1, opts.pageNum ?? 1) - 1;
      const items = await this.pages.page(`members:${opts.groupId}:${size}`, index, (cursor) => this.membersPage(opts.groupId, cursor, size));
      return { type: 0 as const, data: items };
    });
  }

  private async membersPage(groupId: string, cursor: string, limit?: number): Promise<{ items: any[]; cursor: string }> {
    if (!groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'groupId is required');
    const data: Record<string, unknown> = { groupId: String(groupId) };
    if (cursor) data.cursor = cursor;
    if (limit) data.limit = limit;
    const r = await this.request<{ members: WireMember[]; cursor: string }>('group.members', data);
    return { items: (r.members ?? []).map(member), cursor: r.cursor ?? '' };
  }

  /** getGroupAdmin lists the admins' usernames: `{ groupId }` -> `{ data: [username] }`. */
  getGroupAdmin(opts: { groupId: string }): Promise<{ type: 0; data: string[] }> {
    return this.groupCall(opts, async () => {
      const r = await this.request<{ members: WireMember[] }>('group.admins', { groupId: String(opts.groupId) });
      return { type: 0 as const, data: (r.members ?? []).map((m) => m.username) };
    });
  }

  /** getJoinedGroups lists this user's groups by page number (from 0, as the vendor's): `{ pageNum, pageSize }` -> `{ data: [{ groupid, groupname, ... }] }`. */
  getJoinedGroups(opts: { pageNum?: number; pageSize?: number; [k: string]: unknown } = {}): Promise<{ type: 0; data: any[] }> {
    return this.groupCall(opts, async () => {
      const size = opts.pageSize ?? 20;
      const index = Math.max(0, opts.pageNum ?? 0);
      return {
        type: 0 as const,
        data: await this.pages.page(`mine:${size}`, index, async (cursor) => {
          const data: Record<string, unknown> = { limit: size };
          if (cursor) data.cursor = cursor;
          const r = await this.request<{ groups: WireGroup[]; cursor: string }>('group.mine', data);
          return {
            items: (r.groups ?? []).map((g) => ({ groupid: g.groupId, groupname: g.name, description: g.description ?? '', public: !!g.public, owner: g.owner, affiliations_count: g.memberCount ?? 0, maxusers: g.maxMembers ?? 0, created: g.createdAt ?? 0 })),
            cursor: r.cursor ?? '',
          };
        }),
      };
    });
  }

  /** getGroup is the v3 name of getJoinedGroups. */
  getGroup(opts: { pageNum?: number; pageSize?: number } = {}): Promise<{ type: 0; data: any[] }> {
    return this.getJoinedGroups(opts);
  }

  /** handleFrame feeds a raw frame as if it came from the socket (for tests and tooling). */
  handleFrame(raw: string): void {
    if (this.socket) this.onFrame(this.socket, raw);
  }
}

/**
 * detach stops a socket's events from reaching the connection. The error handler stays (a no-op):
 * the `ws` package emits 'error' when a socket still connecting is closed, and an EventEmitter
 * with no 'error' listener throws it, uncaught.
 */
function detach(s: SocketLike): void {
  s.onopen = s.onmessage = null;
  s.onclose = null;
  s.onerror = noop;
}

function parseExt(ext: unknown): Record<string, unknown> | undefined {
  if (ext && typeof ext === 'object' && !Array.isArray(ext)) return ext as Record<string, unknown>;
  if (typeof ext === 'string' && ext) {
    try {
      const v = JSON.parse(ext);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch {
      // not JSON: keep it as text
    }
    return { value: ext };
  }
  return undefined;
}

function groupInfo(g: WireGroup): Record<string, unknown> {
  return {
    id: g.groupId,
    groupid: g.groupId,
    name: g.name,
    description: g.description ?? '',
    public: !!g.public,
    owner: g.owner,
    created: g.createdAt ?? 0,
    maxusers: g.maxMembers ?? 0,
    affiliations_count: g.memberCount ?? 0,
    custom: g.ext ? JSON.stringify(g.ext) : '',
    ext: g.ext ?? {},
  };
}

function member(m: WireMember): Record<string, unknown> {
  const key = m.role === 'owner' ? 'owner' : 'member';
  return { [key]: m.username, username: m.username, role: m.role, joinedAt: m.joinedAt ?? 0 };
}

/** closeError is the error for a WebSocket that closed before or after auth. */
function closeError(code: number, reason: string): WebIMError {
  const data = { closeCode: code, reason };
  if (code === closeCodes.authFailed) {
    const expired = /expire/i.test(reason);
    return new WebIMError(expired ? serverCodes.token_expired : serverCodes.unauthorized, reason || 'authentication failed', { name: expired ? 'token_expired' : 'unauthorized', ...data });
  }
  if (code === closeCodes.tokenRevoked) return new WebIMError(serverCodes.unauthorized, reason || 'the token was revoked', { name: 'unauthorized', ...data });
  return clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, reason || `the connection closed (${code})`, data);
}

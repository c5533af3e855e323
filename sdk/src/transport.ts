/**
 * The transport: one authenticated WebSocket to seen (docs/protocol.md) for the length of a
 * session. It opens the socket and authenticates, pings (two unanswered pings mean a dead
 * connection), re-establishes a dropped socket with backoff, maps close codes onto errors, and
 * matches replies to requests by id, with a timeout. It knows no op but `auth` and `ping`: pushes
 * and lifecycle changes go to its owner through {@link TransportHooks}.
 */
import { backoffDelay } from './backoff';
import { clientCodes, clientError, fromWire, serverCodes, WebIMError } from './errors';
import { noop } from './callbacks';
import { AuthReply, closeCodes, protocolVersion, PushFrame, ReplyFrame } from './protocol';
import type { ConnectionOptions } from './types';

/** A close event, as much of it as the SDK reads. */
export interface CloseLike {
  code?: number;
  reason?: string;
}

/** A message event, as much of it as the SDK reads. */
export interface MessageLike {
  data?: unknown;
}

/**
 * The part of the WebSocket API the SDK uses; the browser's and the `ws` package's both fit. The
 * handlers' event types are left open (`never`) so that every socket's own event types fit.
 */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor. */
export type SocketCtor = new (url: string) => SocketLike;

/** The transport's state: `open` once authenticated, `reconnecting` while waiting for or making another attempt. */
export type TransportState = 'closed' | 'connecting' | 'open' | 'reconnecting';

/** What the transport tells its owner. */
export interface TransportHooks {
  /** The socket is authenticated (first connect and every reconnect); requests are not yet flushed. */
  authed(reply: AuthReply): void;
  /** The queued requests went out after authed: time to catch up. */
  ready(): void;
  /** A reconnect attempt is scheduled. */
  reconnecting(attempt: number, delay: number): void;
  /** The session ended; notify: whether the app should hear of it (onDisconnected). */
  ended(notify: boolean): void;
  /** An error the app should hear of (onError). */
  error(err: WebIMError): void;
  /** A push frame arrived. */
  push(frame: PushFrame): void;
}

interface Pending {
  op: string;
  data: unknown;
  resolve: (v: never) => void;
  reject: (e: WebIMError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Ops that are safe to send again after a drop: the server makes them idempotent. */
const idempotentOps = new Set([
  'msg.send', 'receipt.ack', 'receipt.read', 'receipt.delivered', 'conv.ack', 'history', 'conv.list',
  'receipt.readers', 'receipt.unread', 'receipt.counts', 'receipt.analytics', 'group.info', 'group.members', 'group.admins', 'group.mine',
  'group.policy', 'group.setPolicy', 'user.settings', 'user.setSettings',
]);

/** Transport is the socket side of a connection. */
export class Transport {
  /** open, connecting, reconnecting or closed. */
  state: TransportState = 'closed';
  /** True from begin() until the session ends: while on, a dropped socket is re-established. */
  sessionOn = false;
  private token = '';
  private socket?: SocketLike;
  private nextReqId = 1;
  private pending = new Map<string, Pending>();
  private queue: Pending[] = [];
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private missedPongs = 0;
  private heartbeatMs = 20000;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private attempt = 0;
  private connectAttemptDone?: (err?: WebIMError) => void;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly wsUrl: string | undefined,
    private readonly deviceId: string,
    private readonly hooks: TransportHooks,
  ) {
    if (options.heartBeatWait && options.heartBeatWait > 0) this.heartbeatMs = options.heartBeatWait;
  }

  /** begin starts a session with token: from now on a dropped socket is re-established. Call connect() next. */
  begin(token: string): void {
    this.token = token;
    this.sessionOn = true;
    this.attempt = 0;
    this.watchOnline(true);
  }

  /** abandon ends a session whose first connect() failed, quietly. */
  abandon(): void {
    this.sessionOn = false;
    this.watchOnline(false);
    this.state = 'closed';
  }

  /**
   * shutdown ends the session: the socket is closed, nothing reconnects, pending and queued
   * requests fail with err, and a connect() in progress rejects with it.
   */
  shutdown(err: WebIMError, notify: boolean): void {
    const wasOn = this.sessionOn;
    this.sessionOn = false;
    this.watchOnline(false);
    this.state = 'closed';
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = this.reconnectTimer = undefined;
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
    this.hooks.ended(notify && wasOn);
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
  connect(): Promise<void> {
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
      socket.onmessage = (ev: MessageLike) => this.onFrame(socket, ev.data);
      socket.onerror = noop; // a close event follows
      socket.onclose = (ev: CloseLike | undefined) => {
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
        this.send<AuthReply>(socket, 'auth', { token: this.token, device: this.deviceId, version: protocolVersion }).then(
          (r) => {
            if (this.socket !== socket) return;
            if (!this.options.heartBeatWait && r?.heartbeatMs && r.heartbeatMs > 0) this.heartbeatMs = r.heartbeatMs;
            this.state = 'open';
            this.attempt = 0;
            this.startHeartbeat(socket);
            done();
            this.hooks.authed(r);
            this.flushQueue();
            this.hooks.ready();
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
    this.hooks.error(err);
    this.shutdown(err, true);
  }

  /** reconnectNow skips the rest of the backoff wait and reconnects at once, when waiting to reconnect. */
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
    this.hooks.reconnecting(this.attempt, delay);
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
      this.send(socket, 'ping', {}).catch(noop);
    }, this.heartbeatMs);
  }

  // ---- frames ----

  /** send sends one request on socket and settles with its reply, a timeout, or a send failure. */
  private send<T>(socket: SocketLike, op: string, data: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = String(this.nextReqId++);
      const p: Pending = { op, data, resolve: resolve as (v: never) => void, reject };
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
    });
  }

  /** request sends op once the session is open; see queueWhileDisconnected. */
  request<T>(op: string, data: unknown): Promise<T> {
    if (!this.sessionOn) return Promise.reject(clientError(clientCodes.WEBIM_CONNECTION_CLOSED, `not logged in: call open() before ${op}`));
    if (this.state !== 'open' || !this.socket) {
      if (this.options.queueWhileDisconnected) {
        return new Promise<T>((resolve, reject) => this.queue.push({ op, data, resolve: resolve as (v: never) => void, reject }));
      }
      return Promise.reject(clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, `not connected (reconnecting): ${op} was not sent`));
    }
    return this.send<T>(this.socket, op, data);
  }

  private flushQueue(): void {
    const q = this.queue.splice(0);
    for (const item of q) this.request<never>(item.op, item.data).then(item.resolve, item.reject);
  }

  /** handleFrame feeds a raw frame as if it came from the current socket. */
  handleFrame(raw: string): void {
    if (this.socket) this.onFrame(this.socket, raw);
  }

  private onFrame(socket: SocketLike, raw: unknown): void {
    if (this.socket !== socket) return;
    this.missedPongs = 0;
    let text: string;
    if (typeof raw === 'string') text = raw;
    else if (raw instanceof ArrayBuffer) text = new TextDecoder().decode(raw);
    else text = String(raw);
    let frame: Partial<PushFrame & ReplyFrame> | null;
    try {
      frame = JSON.parse(text);
    } catch {
      this.hooks.error(clientError(clientCodes.REQUEST_UNKNOWN, 'a frame that is not JSON', { frame: text.slice(0, 200) }));
      return;
    }
    if (frame && typeof frame.push === 'string') {
      this.hooks.push(frame as PushFrame);
      return;
    }
    if (frame && frame.id !== undefined) {
      const r = frame as ReplyFrame;
      const p = this.pending.get(String(r.id));
      if (!p) return;
      this.pending.delete(String(r.id));
      clearTimeout(p.timer);
      if (r.ok) p.resolve((r.data ?? {}) as never);
      else p.reject(fromWire(r.error, { op: p.op }));
    }
  }
}

/**
 * detach stops a socket's events from reaching the transport. The error handler stays (a no-op):
 * the `ws` package emits 'error' when a socket still connecting is closed, and an EventEmitter
 * with no 'error' listener throws it, uncaught.
 */
function detach(s: SocketLike): void {
  s.onopen = s.onmessage = null;
  s.onclose = null;
  s.onerror = noop;
}

/** closeError is the error for a WebSocket that closed before or after auth. */
export function closeError(code: number, reason: string): WebIMError {
  const data = { closeCode: code, reason };
  if (code === closeCodes.authFailed) {
    const expired = /expire/i.test(reason);
    return new WebIMError(expired ? serverCodes.token_expired : serverCodes.unauthorized, reason || 'authentication failed', { name: expired ? 'token_expired' : 'unauthorized', ...data });
  }
  if (code === closeCodes.tokenRevoked) return new WebIMError(serverCodes.unauthorized, reason || 'the token was revoked', { name: 'unauthorized', ...data });
  return clientError(clientCodes.WEBIM_CONNCTION_DISCONNECTED, reason || `the connection closed (${code})`, data);
}

import { WebIMError } from './errors';
import { AuthReply, PushFrame } from './protocol';
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
/** Transport is the socket side of a connection. */
export declare class Transport {
    private readonly options;
    private readonly wsUrl;
    private readonly deviceId;
    private readonly hooks;
    /** open, connecting, reconnecting or closed. */
    state: TransportState;
    /** True from begin() until the session ends: while on, a dropped socket is re-established. */
    sessionOn: boolean;
    private token;
    private socket?;
    private nextReqId;
    private pending;
    private queue;
    private heartbeatTimer?;
    private missedPongs;
    private heartbeatMs;
    private reconnectTimer?;
    private attempt;
    private connectAttemptDone?;
    constructor(options: ConnectionOptions, wsUrl: string | undefined, deviceId: string, hooks: TransportHooks);
    /** begin starts a session with token: from now on a dropped socket is re-established. Call connect() next. */
    begin(token: string): void;
    /** abandon ends a session whose first connect() failed, quietly. */
    abandon(): void;
    /**
     * shutdown ends the session: the socket is closed, nothing reconnects, pending and queued
     * requests fail with err, and a connect() in progress rejects with it.
     */
    shutdown(err: WebIMError, notify: boolean): void;
    private failPending;
    /** connect opens a socket and authenticates; it settles when auth succeeds or the attempt fails. */
    connect(): Promise<void>;
    /** dropSocket forgets a socket without waiting for its close handshake. */
    private dropSocket;
    private onDrop;
    private endSession;
    /** reconnectNow skips the rest of the backoff wait and reconnects at once, when waiting to reconnect. */
    reconnectNow(): void;
    private readonly onOnline;
    /** watchOnline follows the browser's `online` event while a session is on (no-op elsewhere). */
    private watchOnline;
    private scheduleReconnect;
    private reconnectAttempt;
    private startHeartbeat;
    /** send sends one request on socket and settles with its reply, a timeout, or a send failure. */
    private send;
    /** request sends op once the session is open; see queueWhileDisconnected. */
    request<T>(op: string, data: unknown): Promise<T>;
    private flushQueue;
    /** handleFrame feeds a raw frame as if it came from the current socket. */
    handleFrame(raw: string): void;
    private onFrame;
}
/** closeError is the error for a WebSocket that closed before or after auth. */
export declare function closeError(code: number, reason: string): WebIMError;

// A fake WebSocket and server for unit tests: requests are recorded and answered from
// per-op handlers, asynchronously, like a real server.
import { Connection, ConnectionOptions } from '../src/connection';

export interface Req {
  id: string;
  op: string;
  data?: any;
}

/** A handler returns reply data, an Error-like `{ error }` object, or NO_REPLY. */
export type Handler = (data: any, req: Req, sock: FakeSocket) => any;
export const NO_REPLY = Symbol('no reply');

export const defaultHandlers: Record<string, Handler> = {
  auth: (d) => ({ user: 'alice', device: d.device, serverTime: 1764000000000, version: 1, heartbeatMs: 20000 }),
  ping: () => ({ serverTime: 1764000000000 }),
  sync: (d) => ({ messages: [], next: d.ack, more: false }),
  'receipt.stats': (d) => ({ entries: [], next: d.ack, more: false }),
};

export class FakeSocket {
  static all: FakeSocket[] = [];
  static handlers: Record<string, Handler> = {};
  static autoOpen = true;
  static reset(): void {
    FakeSocket.all = [];
    FakeSocket.handlers = { ...defaultHandlers };
    FakeSocket.autoOpen = true;
  }

  readyState = 0;
  onopen: ((ev: any) => void) | null = null;
  onclose: ((ev: any) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  onmessage: ((ev: any) => void) | null = null;
  sent: Req[] = [];
  closedByClient?: { code?: number; reason?: string };

  constructor(public url: string) {
    FakeSocket.all.push(this);
    if (FakeSocket.autoOpen) queueMicrotask(() => this.serverOpen());
  }

  send(text: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    const req = JSON.parse(text) as Req;
    this.sent.push(req);
    const h = FakeSocket.handlers[req.op];
    if (!h) return;
    queueMicrotask(() => {
      if (this.readyState !== 1) return;
      const out = h(req.data, req, this);
      if (out === NO_REPLY) return;
      if (out && typeof out === 'object' && 'error' in out) this.frame({ id: req.id, ok: false, error: out.error });
      else this.frame({ id: req.id, ok: true, data: out });
    });
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  // ---- the server's side ----

  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  frame(f: unknown): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }

  push(name: string, data: unknown): void {
    this.frame({ push: name, data });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  ops(op: string): Req[] {
    return this.sent.filter((r) => r.op === op);
  }
}

export function latest(): FakeSocket {
  return FakeSocket.all[FakeSocket.all.length - 1];
}

/** Let queued microtasks (and the promise chains they start) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export function newConn(opts: ConnectionOptions = {}): Connection {
  return new Connection({ url: 'ws://seen.test/ws', apiUrl: 'http://seen.test', WebSocket: FakeSocket as any, deviceId: 'web-test', ...opts });
}

/** open logs in with a token and waits until the catch-up loops are done. */
export async function openConn(opts: ConnectionOptions = {}): Promise<Connection> {
  const c = newConn(opts);
  await c.open({ user: 'alice', accessToken: 'tok' });
  await settle();
  return c;
}

// The fixture of the integration tests: one real seen server a suite (see server.ts), and the SDK
// clients of its scenarios, made with the tests' settings and closed when the suite ends.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe } from 'vitest';
import WebIM from '../../src/index';
import type { Connection } from '../../src/connection';
import type { Handlers, ListenHandlers } from '../../src/types';
import { buildServer, SeenServer } from './server';

/** Seen is what a suite's scenarios use: its server and the ways to make clients of it. */
export interface Seen {
  /** The suite's server, started before its first scenario. */
  readonly server: SeenServer;
  /** connection makes a client of the server: quick reconnects and sync, and opts on top. */
  connection(opts?: Record<string, unknown>): Connection;
  /** users registers fresh users, one a name (the name and a tag of its own), password 'secret-pw'. */
  users(...names: string[]): Promise<string[]>;
  /** login opens a connection of user with v4 handlers (addEventHandler). */
  login(user: string, handlers?: Handlers, opts?: Record<string, unknown>): Promise<Connection>;
  /** loginV3 opens a connection of user with v3 handlers (listen). */
  loginV3(user: string, handlers?: ListenHandlers, opts?: Record<string, unknown>): Promise<Connection>;
}

/**
 * describeSeen declares the suite title: it builds seen, starts it before the scenarios and, after
 * them, closes every client they made and stops it. The suite is skipped, with the reason printed,
 * only when the server binary cannot be built.
 */
export async function describeSeen(title: string, scenarios: (seen: Seen) => void): Promise<void> {
  const built = await buildServer();
  if (!built.bin) console.warn(`seen integration tests skipped: ${built.why}`);

  let server: SeenServer | undefined;
  let n = 0;
  const conns: Connection[] = [];

  function connection(opts: Record<string, unknown> = {}): Connection {
    const c = new WebIM.connection({ url: server!.url, WebSocket: WebSocket as any, reconnectBaseMs: 200, reconnectMaxMs: 1000, syncDebounceMs: 200, ...opts });
    conns.push(c);
    return c;
  }

  async function users(...names: string[]): Promise<string[]> {
    const tag = `${Date.now().toString(36)}${n++}`;
    const out = names.map((u) => `${u}-${tag}`);
    const c = connection();
    for (const u of out) await c.registerUser({ username: u, password: 'secret-pw' });
    return out;
  }

  async function login(user: string, handlers: Handlers = {}, opts: Record<string, unknown> = {}): Promise<Connection> {
    const c = connection(opts);
    c.addEventHandler('test', handlers);
    await c.open({ user, pwd: 'secret-pw' });
    return c;
  }

  async function loginV3(user: string, handlers: ListenHandlers = {}, opts: Record<string, unknown> = {}): Promise<Connection> {
    const c = connection(opts);
    c.listen(handlers);
    await c.open({ user, pwd: 'secret-pw' });
    return c;
  }

  const seen: Seen = {
    get server() {
      return server!;
    },
    connection,
    users,
    login,
    loginV3,
  };

  describe.skipIf(!built.bin)(title, () => {
    beforeAll(async () => {
      server = await SeenServer.start(built.bin!);
    });
    afterAll(async () => {
      for (const c of conns) c.close();
      await server?.destroy();
    });
    scenarios(seen);
  });
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientCodes, fromWire, serverCodes, statusCode, WebIMError } from '../src/errors';
import WebIM from '../src/index';

const errorGo = fileURLToPath(new URL('../../internal/chat/error.go', import.meta.url));

describe('error codes', () => {
  it('mirror internal/chat/error.go exactly', () => {
    const src = readFileSync(errorGo, 'utf8');
    const names: Record<string, string> = {};
    for (const m of src.matchAll(/^\s*(Code\w+)\s+Code\s*=\s*"([a-z_]+)"/gm)) names[m[1]] = m[2];
    const numbers: Record<string, number> = {};
    const table = src.slice(src.indexOf('var Numbers'));
    for (const m of table.matchAll(/^\s*(Code\w+):\s*(\d+),/gm)) numbers[names[m[1]]] = Number(m[2]);
    expect(Object.keys(names).length).toBeGreaterThan(10);
    expect(serverCodes).toEqual(numbers);
  });

  it('statusCode has the upper-case server names, the vendor names and the client codes', () => {
    for (const [name, n] of Object.entries(serverCodes)) expect((statusCode as any)[name.toUpperCase()]).toBe(n);
    expect(WebIM.statusCode.PERMISSION_DENIED).toBe(603);
    expect(WebIM.statusCode.USER_AUTHENTICATION_FAILED).toBe(202);
    expect(WebIM.statusCode.WEBIM_CONNCTION_DISCONNECTED).toBe(16);
  });

  it('client codes never collide with server codes', () => {
    const server = new Set<number>(Object.values(serverCodes));
    for (const [name, n] of Object.entries(clientCodes)) expect(server.has(n), name).toBe(false);
  });

  it('fromWire keeps the server code and name', () => {
    const e = fromWire({ code: 603, name: 'permission_denied', message: 'only the group owner and admins may request read receipts' });
    expect(e).toBeInstanceOf(WebIMError);
    expect(e.type).toBe(603);
    expect(e.message).toBe('only the group owner and admins may request read receipts');
    expect(e.data.name).toBe('permission_denied');
    expect(fromWire({ name: 'group_full', message: 'x' }).type).toBe(606);
  });
});

import { describe, expect, it } from 'vitest';
import WebIM from '../src/index';
import { create, Message, sendRequest, toV3, toV4 } from '../src/message';
import { uniqueId } from '../src/ids';
import type { WireMessage } from '../src/protocol';

describe('v3 messages', () => {
  it('set keeps every field, including msgConfig and ackContent', () => {
    const success = () => {};
    const m = new WebIM.message('txt', '17640000000001');
    m.set({ msg: 'hi', to: '987654321098765432', chatType: 'groupChat', success, msgConfig: { allowGroupAck: true }, ackContent: 'x', ext: { a: 1 }, custom: 'kept' });
    expect(m.body).toMatchObject({ id: '17640000000001', type: 'txt', msg: 'hi', to: '987654321098765432', chatType: 'groupChat', msgConfig: { allowGroupAck: true }, ackContent: 'x', ext: { a: 1 }, custom: 'kept' });
    expect(m.body.success).toBe(success);
  });

  it('msgConfig set on the body after set takes effect', () => {
    const m = new WebIM.message('txt', '1');
    m.set({ msg: 'message content', to: 'g1', chatType: 'groupChat' });
    m.body.msgConfig = { allowGroupAck: true };
    expect(sendRequest(m.body)).toEqual({ localId: '1', type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'message content', msgConfig: { allowGroupAck: true } });
  });

  it('a read message takes the acked id from set and the chat type from setChatType', () => {
    const m = new WebIM.message('read', '55');
    m.set({ id: '123456789012345678', to: 'g1', msgConfig: { allowGroupAck: true }, ackContent: JSON.stringify({}) });
    m.setChatType('groupChat');
    expect(m.body).toMatchObject({ id: '123456789012345678', type: 'read', to: 'g1', chatType: 'groupChat', ackContent: '{}' });
  });

  it('understands the v3 group spelling', () => {
    const m = new Message('txt', '2').set({ msg: 'x', to: 'g', group: 'groupchat' });
    expect(sendRequest(m.body).chatType).toBe('groupChat');
    const n = new Message('txt', '3').set({ msg: 'x', to: 'g' }).setGroup('groupchat');
    expect(sendRequest(n.body).chatType).toBe('groupChat');
  });
});

describe('v4 messages', () => {
  it('create fills id, time, chatType and ext', () => {
    const m = WebIM.message.create({ type: 'txt', to: 'bob', msg: 'hi' });
    expect(m.id).toMatch(/^\d+$/);
    expect(m).toMatchObject({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'hi', ext: {} });
    expect(typeof m.time).toBe('number');
  });

  it('create keeps a given id and ackContent', () => {
    const m = create({ type: 'read', chatType: 'groupChat', to: 'g', id: '123456789012345678', ackContent: 'ok' });
    expect(m).toMatchObject({ id: '123456789012345678', ackContent: 'ok', chatType: 'groupChat' });
  });

  it('custom messages carry customEvent and customExts; unknown msgConfig fields are not sent', () => {
    const m = create({ type: 'custom', chatType: 'singleChat', to: 'bob', customEvent: 'vote', customExts: { choice: 'a' }, msgConfig: { allowGroupAck: false, other: 1 } });
    expect(sendRequest(m)).toEqual({ localId: m.id, type: 'custom', chatType: 'singleChat', to: 'bob', customEvent: 'vote', customExts: { choice: 'a' }, msgConfig: { allowGroupAck: false } });
  });
});

const wire: WireMessage = {
  id: '123456789012345678', // above 2^53: must stay a string
  localId: '1',
  seq: 42,
  type: 'txt',
  chatType: 'groupChat',
  from: 'alice',
  to: '987654321098765432',
  msg: 'hello',
  msgConfig: { allowGroupAck: true },
  time: 1764000000000,
};

describe('incoming shapes', () => {
  it('v4', () => {
    expect(toV4(wire)).toEqual({ id: '123456789012345678', type: 'txt', chatType: 'groupChat', from: 'alice', to: '987654321098765432', msg: 'hello', ext: {}, time: 1764000000000, msgConfig: { allowGroupAck: true } });
  });
  it('v3', () => {
    expect(toV3(wire)).toEqual({ id: '123456789012345678', type: 'groupchat', from: 'alice', to: '987654321098765432', data: 'hello', ext: {}, time: '1764000000000', msgConfig: { allowGroupAck: true } });
    expect(toV3({ ...wire, chatType: 'singleChat', msgConfig: undefined }).type).toBe('chat');
  });
  it("isRead / isDelivered: always on my own single-chat messages, read implies delivered; elsewhere only when true", () => {
    const mine = { ...wire, chatType: 'singleChat' as const, to: 'bob', msgConfig: undefined };
    const cases: { name: string; m: any; self?: string; want: Record<string, boolean> }[] = [
      { name: 'mine, no receipt yet', m: mine, self: 'alice', want: { isRead: false, isDelivered: false } },
      { name: 'mine, delivered', m: { ...mine, isDelivered: true }, self: 'alice', want: { isRead: false, isDelivered: true } },
      { name: 'mine, read (no delivery receipt)', m: { ...mine, isRead: true }, self: 'alice', want: { isRead: true, isDelivered: true } },
      { name: 'mine, read and delivered', m: { ...mine, isRead: true, isDelivered: true }, self: 'alice', want: { isRead: true, isDelivered: true } },
      { name: "the peer's message", m: { ...mine, from: 'bob', to: 'alice' }, self: 'alice', want: {} },
      { name: 'a group message of mine', m: wire, self: 'alice', want: {} },
      { name: 'no user known, read', m: { ...mine, isRead: true }, want: { isRead: true, isDelivered: true } },
      { name: 'no user known, nothing', m: mine, want: {} },
    ];
    for (const c of cases) {
      for (const [shape, f] of [['v4', toV4], ['v3', toV3]] as const) {
        const out = f(c.m, c.self);
        const got = Object.fromEntries(Object.entries(out).filter(([k]) => k === 'isRead' || k === 'isDelivered'));
        expect(got, `${c.name} (${shape})`).toEqual(c.want);
      }
    }
  });
  it('64-bit ids survive JSON parsing as strings', () => {
    const parsed = JSON.parse(JSON.stringify(wire)) as WireMessage;
    expect(toV4(parsed).id).toBe('123456789012345678');
  });
});

describe('getUniqueId', () => {
  it('is a decimal string, unique and increasing, below 2^53', () => {
    const seen = new Set<string>();
    let prev = 0;
    for (let i = 0; i < 10000; i++) {
      const id = uniqueId();
      expect(id).toMatch(/^\d+$/);
      const n = Number(id);
      expect(n).toBeGreaterThan(prev);
      expect(Number.isSafeInteger(n)).toBe(true);
      prev = n;
      seen.add(id);
    }
    expect(seen.size).toBe(10000);
  });
});

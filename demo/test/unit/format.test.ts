import { describe, expect, test } from 'vitest';
import { bindCodes, byTime, codes, compareIds, convKey, errorText, hashToKey, keyToHash, parseKey, parseUsernames, receiptLabel, receiptTime, usernameProblem, withFirstPage } from '../../src/format';

describe('receiptLabel', () => {
  test.each([
    [0, undefined, 'Read by 0'],
    [1, undefined, 'Read by 1'],
    [0, 2, 'Read by 0 of 2'],
    [1, 2, 'Read by 1 of 2'],
    [2, 2, 'Read by all'],
    [3, 2, 'Read by all'],
    [0, 0, 'No one to read it yet'],
  ])('receiptLabel(%i, %s) = %s', (n, m, want) => {
    expect(receiptLabel(n, m)).toBe(want);
  });
});

describe('conversation keys', () => {
  test('round trip through the address', () => {
    for (const key of [convKey('groupChat', '123456789012345678'), convKey('singleChat', 'bob.smith')]) {
      expect(hashToKey(keyToHash(key))).toBe(key);
    }
    expect(keyToHash(null)).toBe('#/');
    expect(hashToKey('#/')).toBe(null);
    expect(hashToKey('#/nope/x')).toBe(null);
    expect(parseKey('g:42')).toEqual({ chatType: 'groupChat', target: '42' });
    expect(parseKey('x')).toBe(undefined);
  });
});

describe('ids and order', () => {
  test('64-bit ids compare as numbers', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('900719925474099300', '900719925474099299')).toBeGreaterThan(0);
    expect(compareIds('5', '5')).toBe(0);
  });
  test('byTime breaks ties by id', () => {
    const a = { time: 1, id: '10' };
    const b = { time: 1, id: '9' };
    expect([a, b].sort(byTime)).toEqual([b, a]);
  });
});

describe('input', () => {
  test('usernames', () => {
    expect(usernameProblem('alice')).toBe('');
    expect(usernameProblem('')).toMatch(/Enter/);
    expect(usernameProblem('Alice')).toMatch(/lower-case/);
    expect(usernameProblem('a'.repeat(65))).toMatch(/64/);
    expect(parseUsernames('bob, Carol  @dave;bob')).toEqual(['bob', 'carol', 'dave']);
  });
});

describe('errorText', () => {
  test('names the problem in words', () => {
    expect(errorText({ type: 603, message: 'only the group owner and admins may request read receipts' })).toBe(
      'not allowed. Only the group owner and admins may request read receipts.',
    );
    expect(errorText({ type: 16, message: 'x' }, 'Not sent')).toMatch(/^Not sent: not connected/);
    expect(errorText({ type: 203, message: 'exists' }, 'Could not create the account')).toMatch(/taken/);
    expect(errorText({ type: 110, message: 'name too long' })).toBe('Name too long.');
    expect(errorText(new Error('boom'))).toBe('Boom.');
  });
});

describe('bindCodes', () => {
  test('takes the numbers from WebIM.statusCode', () => {
    const before = codes.permissionDenied;
    bindCodes({ PERMISSION_DENIED: 9603, UNRELATED: 1 });
    expect(codes.permissionDenied).toBe(9603);
    expect(errorText({ type: 9603, message: 'no' })).toBe('not allowed. No.');
    bindCodes({ PERMISSION_DENIED: before });
    bindCodes(undefined);
    expect(codes.permissionDenied).toBe(before);
  });
});

describe('withFirstPage', () => {
  const r = (...names: string[]) => names.map((username) => ({ username }));
  test('nothing shown yet: the page, with its cursor', () => {
    expect(withFirstPage({ readers: [], readCursor: '', readLast: true }, r('c', 'b'), '9.2', false)).toEqual({ readers: r('c', 'b'), readCursor: '9.2', readLast: false });
  });
  test('the page reaches what is shown: new reads on top, paging goes on where it was', () => {
    const old = { readers: r('c', 'b', 'a'), readCursor: '5.1', readLast: false };
    expect(withFirstPage(old, r('e', 'd', 'c'), '8.3', false)).toEqual({ readers: r('e', 'd', 'c', 'b', 'a'), readCursor: '5.1', readLast: false });
  });
  test('the page holds everyone: it replaces the list', () => {
    expect(withFirstPage({ readers: r('b', 'a'), readCursor: '', readLast: true }, r('c', 'b', 'a'), '', true)).toEqual({ readers: r('c', 'b', 'a'), readCursor: '', readLast: true });
  });
  test('more read meanwhile than a page holds: start over', () => {
    expect(withFirstPage({ readers: r('b', 'a'), readCursor: '', readLast: true }, r('z', 'y'), '7.9', false)).toEqual({ readers: r('z', 'y'), readCursor: '7.9', readLast: false });
  });
});


describe('receiptTime', () => {
  test.each([
    [5, '7', 5],
    [undefined, '7', 7],
    [undefined, 7, 7],
    [undefined, undefined, 99],
    [undefined, 'soon', 99],
    [undefined, '', 99],
    [Number.NaN, undefined, 99],
  ])('receiptTime(%s, %s) = %s', (m, raw, want) => {
    expect(receiptTime(m as number | undefined, raw, 99)).toBe(want);
  });
});

import { describe, expect, test } from 'vitest';
import { bindCodes, bucketLabels, byTime, clock, codes, compareIds, convKey, duration, errorText, hashToKey, keyToHash, parseKey, parseUsernames, reachedText, receiptLabel, receiptTime, remindedNote, remindedText, remindLabel, usernameProblem, withFirstPage } from '../../src/format';

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

describe('read times', () => {
  test.each([
    [0, '0 s'],
    [45000, '45 s'],
    [60000, '1 min'],
    [89000, '1 min'],
    [300000, '5 min'],
    [3600000, '1 h'],
    [3900000, '1 h 5 min'],
    [86400000, '1 d'],
    [97200000, '1 d 3 h'],
    [604800000, '7 d'],
  ])('duration(%i) = %s', (ms, want) => {
    expect(duration(ms)).toBe(want);
  });

  test('reachedText and the histogram labels', () => {
    expect(reachedText(null)).toBe('not yet');
    expect(reachedText(45000)).toBe('after 45 s');
    expect(bucketLabels([{ upTo: 60000 }, { upTo: 300000 }, { upTo: 86400000 }, { upTo: null }])).toEqual(['≤ 1 min', '≤ 5 min', '≤ 1 d', 'later']);
  });
});

describe('reminders', () => {
  const now = new Date(2026, 11, 2, 12, 0).getTime();
  const at = new Date(2026, 11, 2, 10, 42).getTime();

  test('remindLabel counts who it will reach', () => {
    expect(remindLabel(12)).toBe('Remind 12 who haven’t read');
    expect(remindLabel(1)).toBe('Remind the 1 who hasn’t read');
  });

  test('remindedNote: how often and when last', () => {
    expect(remindedNote(0, 0, now)).toBe('');
    expect(remindedNote(1, at, now)).toBe('reminded at 10:42');
    expect(remindedNote(2, at, now)).toBe('reminded 2 times, last at 10:42');
  });

  test('remindedText: the outcome, with when it may be done again', () => {
    const next = at + 10 * 60000;
    expect(remindedText({ reminded: 12, skipped: [], nextAt: next }, now)).toBe(`Reminded 12 people. You can remind again at ${clock(next)}.`);
    expect(remindedText({ reminded: 1, skipped: ['erin'], nextAt: next }, now)).toBe(`Reminded 1 person. Not reminded (read it meanwhile, or not a reader): erin. You can remind again at ${clock(next)}.`);
    expect(remindedText({ reminded: 0, skipped: [], nextAt: next }, now)).toMatch(/^No one left to remind\./);
  });
});

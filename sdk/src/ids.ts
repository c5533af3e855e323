/**
 * Local message ids.
 *
 * A local id is a decimal numeric string: the time in milliseconds times 1000 plus a random
 * three-digit part, and never less than the previous id plus one. It stays below 2^53, is unique
 * within this page (so within a connection), and almost surely unique across reloads and devices,
 * which matters because the server answers a resend of the same local id with the stored message.
 */
let last = 0;

/** uniqueId returns a new local message id. */
export function uniqueId(): string {
  const candidate = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  last = Math.max(last + 1, candidate);
  return String(last);
}

/** The device id is kept under this localStorage key, so a browser stays one device. */
export const deviceIdKey = 'seen.deviceId';

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < bytes; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * deviceId returns this browser's device id: the one stored in localStorage, or a new one that is
 * then stored. Without localStorage (Node, some private modes) it is a random id kept in memory.
 */
export function deviceId(): string {
  let storage: Storage | undefined;
  try {
    storage = (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    storage = undefined; // access denied (sandboxed frames)
  }
  try {
    const stored = storage?.getItem(deviceIdKey);
    if (stored && /^[\x21-\x7e]{1,64}$/.test(stored)) return stored;
  } catch {
    // fall through to a fresh id
  }
  const id = 'web-' + randomHex(8);
  try {
    storage?.setItem(deviceIdKey, id);
  } catch {
    // quota or access: an in-memory id still works for this page
  }
  return id;
}

/**
 * v3 callbacks: every method returns a promise and also calls the `success` / `error` given in
 * its options, as the vendor's v3 SDK did.
 */
import type { WebIMError } from './errors';

/** Options that may carry v3 callbacks; anything else is ignored here. */
type MaybeCallbacks = { success?: unknown; error?: unknown } | null | undefined;

/** noop does nothing: a handler for promise rejections that were already reported elsewhere. */
export const noop = (): void => {};

/**
 * withCallbacks attaches the v3 `success` / `error` callbacks of opts to p, and keeps a promise
 * whose rejection is handled by them from being reported as unhandled. It returns p.
 */
export function withCallbacks<T>(opts: MaybeCallbacks, p: Promise<T>): Promise<T> {
  const success = opts && typeof opts.success === 'function' ? (opts.success as (r: T) => void) : undefined;
  const error = opts && typeof opts.error === 'function' ? (opts.error as (e: WebIMError) => void) : undefined;
  if (success || error) {
    p.then((r) => success?.(r), (e) => error?.(e));
  }
  return p;
}

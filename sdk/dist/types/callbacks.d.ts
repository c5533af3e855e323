/** Options that may carry v3 callbacks; anything else is ignored here. */
type MaybeCallbacks = {
    success?: unknown;
    error?: unknown;
} | null | undefined;
/** noop does nothing: a handler for promise rejections that were already reported elsewhere. */
export declare const noop: () => void;
/**
 * withCallbacks attaches the v3 `success` / `error` callbacks of opts to p, and keeps a promise
 * whose rejection is handled by them from being reported as unhandled. It returns p.
 */
export declare function withCallbacks<T>(opts: MaybeCallbacks, p: Promise<T>): Promise<T>;
export {};

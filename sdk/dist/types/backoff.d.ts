/**
 * Reconnect backoff: exponential with full jitter (a uniformly random delay between 0 and the
 * exponential cap), which spreads a crowd of clients reconnecting after a server restart.
 */
export interface BackoffOptions {
    /** The cap of the first attempt, in ms. */
    baseMs?: number;
    /** The largest cap, in ms. */
    maxMs?: number;
    /** A source of uniform numbers in [0, 1); Math.random by default. */
    random?: () => number;
}
/** backoffDelay returns the delay before reconnect attempt `attempt` (0 for the first). */
export declare function backoffDelay(attempt: number, opts?: BackoffOptions): number;

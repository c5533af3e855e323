/**
 * Reading for real: a message counts as read only once the user could have read it.
 *
 * `conn.readTracker({ dwellMs })` returns a tracker; `tracker.observe(element, message)` watches the
 * element that shows a message. A receipt-requesting group message someone else sent is
 * acknowledged once its element has been at least half visible for dwellMs while the page is
 * visible (IntersectionObserver + Page Visibility API; a hidden page pauses the clock, scrolling
 * away resets it). Acks are batched: one receipt.ack per group per flush, at most 100 items, and
 * no message is acknowledged twice. `onAck(mid, result)` reports, once per message, that its ack
 * is settled: accepted by the server, or refused for good.
 */
import { WebIMError } from './errors';
import type { AckItem } from './batch';
import type { AckResultItem } from './protocol';
/** Options of `conn.readTracker`. */
export interface ReadTrackerOptions {
    /** How long an element must stay visible, in ms; default 1000. */
    dwellMs?: number;
    /** The IntersectionObserver root (a scrolling container); default the viewport. */
    root?: Element | Document | null;
    /** The visible fraction that counts; default 0.5. */
    threshold?: number;
    /** How long to gather due acks into one batch, in ms; default 50. */
    flushMs?: number;
    /**
     * Called once per message when its ack is settled: the server accepted it (`counted` says
     * whether it was this reader's first) or refused it for good (`error`: e.g. `not_allowed` for
     * a message sent before the reader joined, `not_member`, `message_not_found`). Not called for
     * transient failures (disconnected, timeout, rate limit): those are tried again. A message the
     * connection had already acknowledged (another tracker, a `read` sent by the app) is reported
     * when observed, with `counted: false`.
     */
    onAck?: (mid: string, result: AckOutcome) => void;
    /** Injected for tests and unusual environments; default the globals. */
    IntersectionObserver?: typeof IntersectionObserver;
    document?: Document;
}
/** AckOutcome is how one message's ack was settled (see `ReadTrackerOptions.onAck`). */
export interface AckOutcome {
    /** True when this ack counted: the reader's first. False for a repeat and for a refusal. */
    counted: boolean;
    /** The message's reader count once the counted ack was committed. */
    count?: number;
    /** Set when the server refused the ack for good; it is never retried. */
    error?: WebIMError;
}
/** What the tracker needs from the connection. */
export interface TrackerHost {
    user: string;
    acked: Set<string>;
    ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[];
}
/** ackTarget returns the group and id to acknowledge for message, or undefined if it needs no ack. */
export declare function ackTarget(shown: unknown, me: string): {
    mid: string;
    groupId: string;
} | undefined;
/** ReadTracker acknowledges messages the user has seen. */
export declare class ReadTracker {
    private readonly host;
    private readonly watched;
    private readonly given;
    private readonly settled;
    private readonly onAck?;
    private readonly io?;
    private readonly doc?;
    private readonly dwellMs;
    private readonly threshold;
    private readonly flushMs;
    private dueList;
    private flushTimer?;
    private disposed;
    private readonly onVisibility;
    constructor(host: TrackerHost, opts?: ReadTrackerOptions);
    /**
     * acked holds every message whose ack this tracker has seen settled, with the result given to
     * `onAck`: accepted (`counted` true or false) or refused for good (`error`).
     */
    get acked(): ReadonlyMap<string, AckOutcome>;
    /**
     * observe watches element, which shows message (v4 or v3 shape). Messages that need no ack (not a
     * group message, no receipt requested, sent by this user, already acknowledged) are ignored.
     */
    observe(el: Element, message: unknown): void;
    /** unobserve stops watching element. */
    unobserve(el: Element): void;
    /** dispose stops everything; acks already due are still sent. */
    dispose(): void;
    private pageVisible;
    private intersect;
    private start;
    private pause;
    private visibilityChanged;
    private fire;
    private flush;
    /** settle records how mid's ack ended and tells onAck, once per message. */
    private settle;
}

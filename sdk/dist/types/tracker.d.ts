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
    /** Injected for tests and unusual environments; default the globals. */
    IntersectionObserver?: typeof IntersectionObserver;
    document?: Document;
}
/** What the tracker needs from the connection. */
export interface TrackerHost {
    user: string;
    acked: Set<string>;
    ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[];
}
/** ackTarget returns the group and id to acknowledge for message, or undefined if it needs no ack. */
export declare function ackTarget(message: any, me: string): {
    mid: string;
    groupId: string;
} | undefined;
/** ReadTracker acknowledges messages the user has seen. */
export declare class ReadTracker {
    private readonly host;
    private readonly watched;
    private readonly given;
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
}

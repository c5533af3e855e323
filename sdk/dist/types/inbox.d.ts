/**
 * The inbox: everything that arrives, live (pushes) or caught up (the `sync` and `receipt.stats`
 * streams, each followed by a {@link StreamFollower}), becomes app events here, once each:
 * messages and stored receipts are deduplicated by server id, and reader counts never go
 * backwards ({@link ReadCounts}).
 */
import type { Emitter } from './events';
import type { PushFrame, StatsEntry, StatsReply, SyncReply } from './protocol';
import { Requester, StreamFollower } from './follower';
/**
 * ReadCounts keeps the largest reader count seen per message: counts never go backwards; nor
 * does "read by all" (the server's `readByAll`, which a late push from another node may lack).
 */
export declare class ReadCounts {
    private counts;
    private all;
    /**
     * readByAll is the `eligible` / `readByAll` pair of a group receipt or statistics entry for
     * mid, when the server sent eligible; readByAll stays true once the server said so.
     */
    readByAll(mid: string, r: {
        eligible?: number;
        readByAll?: boolean;
    }): {
        eligible?: number;
        readByAll?: boolean;
    };
    /** max records a reader count for mid and returns the largest seen. */
    max(mid: string, count: number): number;
    /** get returns the largest count seen for mid, 0 if none. */
    get(mid: string): number;
}
/** What the inbox needs from its connection. */
export interface InboxHost {
    /** The logged-in user. */
    user(): string;
    /** Whether to send delivery receipts for single-chat messages (the `delivery` option). */
    delivery(): boolean;
    /** The debounce of confirming runs, in ms. */
    debounceMs(): number;
    request: Requester;
    emit: Emitter;
}
/** One run of the statistics stream: whether it is full, and the entries to report, by message. */
interface StatsRun {
    full: boolean;
    entries: Map<string, StatsEntry>;
}
/** Inbox turns pushes and stream pages into events. */
export declare class Inbox {
    private readonly host;
    /** The reader counts seen, by message id. */
    readonly counts: ReadCounts;
    /** The sync stream: messages and stored single-chat receipts. */
    readonly sync: StreamFollower<SyncReply, void>;
    /** The receipt statistics stream: reader counts that changed. */
    readonly stats: StreamFollower<StatsReply, StatsRun>;
    private seenIds;
    constructor(host: InboxHost);
    /** catchUp follows both streams from their confirmed positions: after every (re)connect and resync. */
    catchUp(): void;
    /** stop cancels the scheduled confirming runs: the session ended. */
    stop(): void;
    /** push turns one push into events. */
    push(f: PushFrame): void;
    /** remember marks a server id as seen, so that its copy from sync or a push fires nothing. */
    remember(id: string): void;
    private group;
    private groupReceipt;
    /** firstSight reports whether a pushed receipt is new (true when it has no id), and remembers it. */
    private firstSight;
    /**
     * peerReceipt fires the event of a single-chat receipt, live (a push) or stored (from sync), in
     * the same shapes either way. Its id is the stored receipt's server id when known.
     */
    private peerReceipt;
    /** reminder fires onReminder once per reminder id, live (a push) or stored (from sync). */
    private reminder;
    /** deliver fires the event of a message (or stored receipt) from a push or sync, once per id. */
    private deliver;
    /** syncStream delivers every message of the sync stream. */
    private syncStream;
    /**
     * statsStream gathers the receipt statistics of a run and fires onStatisticMessage once at its
     * end: after a (re)connect (a full run) with every entry; after live receipts only with the
     * entries whose count is above what was seen live. Nothing changed: no event.
     */
    private statsStream;
}
export {};

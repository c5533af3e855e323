/**
 * The stream follower: the one implementation of seen's gap-free catch-up (docs/protocol.md
 * "Streams"), used for both ordered streams, `sync` (messages and stored receipts) and
 * `receipt.stats` (reader counts).
 *
 * A run pages from the confirmed position: each request `{ ack, limit }` confirms the `next` of
 * the page before, and the run ends when a confirmation brings nothing new (`!more` and
 * `next <= ack`). Only one run is in flight; a run asked for meanwhile happens once after it
 * (a "full" run, after a (re)connect, is chained as its own run). Position 0 starts over: when
 * the server says the position is beyond its stream (its data was reset), the follower starts
 * again from 0. A dropped connection ends a run quietly; the next (re)connect runs again from
 * the confirmed position, so nothing is skipped and nothing confirmed comes back.
 */
import { WebIMError } from './errors';
/** One page of a stream: its items (in the reply's field named by the stream), next and more. */
export interface StreamReply {
    next: number;
    more: boolean;
}
/**
 * Stream is what one stream's follower does with its pages. A run begins (full: after a
 * (re)connect or a resync; otherwise to confirm live pushes), gets every page in order, and ends
 * once it reached the stream's head; a run that failed gets no end.
 */
export interface Stream<Reply extends StreamReply, Run> {
    /** The op (`sync`, `receipt.stats`) and the page size asked for. */
    op: string;
    limit: number;
    begin(full: boolean): Run;
    page(run: Run, reply: Reply): void;
    end(run: Run): void;
}
/** Sends one request and settles with its reply data. */
export type Requester = <T>(op: string, data: unknown) => Promise<T>;
/** StreamFollower follows one stream for a connection. */
export declare class StreamFollower<Reply extends StreamReply, Run> {
    private readonly stream;
    private readonly request;
    private readonly onError;
    private readonly debounceMs;
    /** The confirmed position: the last `ack` the server accepted. */
    position: number;
    private running?;
    private again;
    private timer?;
    constructor(stream: Stream<Reply, Run>, request: Requester, onError: (err: WebIMError) => void, debounceMs: () => number);
    /** run pages through the stream to its head; see the file comment for how runs combine. */
    run(full?: boolean): Promise<void>;
    /** schedule runs the stream after the debounce (restarted by every call): live pushes are confirmed in one run. */
    schedule(): void;
    /** stop cancels a scheduled run (the session ended); a run in flight ends with its request. */
    stop(): void;
    private follow;
}

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
import { clientCodes, serverCodes, WebIMError } from './errors';

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

/** Errors that only mean the connection went away: the next (re)connect runs again. */
const quiet = new Set<number>([clientCodes.WEBIM_CONNCTION_DISCONNECTED, clientCodes.WEBIM_CONNECTION_CLOSED, clientCodes.REQUEST_ABORT]);

/** StreamFollower follows one stream for a connection. */
export class StreamFollower<Reply extends StreamReply, Run> {
  /** The confirmed position: the last `ack` the server accepted. */
  position = 0;
  private running?: Promise<void>;
  private again = false;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly stream: Stream<Reply, Run>,
    private readonly request: Requester,
    private readonly onError: (err: WebIMError) => void,
    private readonly debounceMs: () => number,
  ) {}

  /** run pages through the stream to its head; see the file comment for how runs combine. */
  run(full = false): Promise<void> {
    if (this.running) {
      if (full) return this.running.then(() => this.run(true));
      this.again = true;
      return this.running;
    }
    this.running = this.follow(full)
      .catch((err: WebIMError) => {
        if (err.type === serverCodes.bad_request && this.position > 0) {
          // Our position is beyond the stream (the server's data was reset): start over.
          this.position = 0;
          this.again = true;
          return;
        }
        if (!quiet.has(err.type)) this.onError(err);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.run(false);
        }
      });
    return this.running;
  }

  /** schedule runs the stream after the debounce (restarted by every call): live pushes are confirmed in one run. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run(false);
    }, this.debounceMs());
  }

  /** stop cancels a scheduled run (the session ended); a run in flight ends with its request. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async follow(full: boolean): Promise<void> {
    const run = this.stream.begin(full);
    let ack = this.position;
    for (;;) {
      const r = await this.request<Reply>(this.stream.op, { ack, limit: this.stream.limit });
      this.position = ack;
      this.stream.page(run, r);
      if (!r.more && r.next <= ack) break;
      ack = r.next;
    }
    this.stream.end(run);
  }
}

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
import { clientCodes, serverCodes, WebIMError } from './errors';
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

interface Watched {
  el: Element;
  mid: string;
  groupId: string;
  visible: boolean;
  elapsed: number;
  startedAt: number;
  timer?: ReturnType<typeof setTimeout>;
  due: boolean;
}

// Errors after which trying again later may succeed.
const transient = new Set<number>([
  clientCodes.WEBIM_CONNCTION_DISCONNECTED,
  clientCodes.REQUEST_TIMEOUT,
  clientCodes.WEBIM_CONNECTION_CLOSED,
  serverCodes.unavailable,
  serverCodes.rate_limited,
  serverCodes.internal,
]);

/** ackTarget returns the group and id to acknowledge for message, or undefined if it needs no ack. */
export function ackTarget(shown: unknown, me: string): { mid: string; groupId: string } | undefined {
  // A message in either shape, or anything else an app passed: every field is checked.
  const message = shown as { id?: unknown; chatType?: unknown; type?: unknown; msgConfig?: { allowGroupAck?: unknown }; from?: unknown; to?: unknown } | null | undefined;
  if (!message || message.id === undefined || message.id === null) return undefined;
  const group = message.chatType === 'groupChat' || message.type === 'groupchat';
  if (!group || message.msgConfig?.allowGroupAck !== true) return undefined;
  if (me && String(message.from ?? '').toLowerCase() === me.toLowerCase()) return undefined;
  if (!message.to) return undefined;
  return { mid: String(message.id), groupId: String(message.to) };
}

/** ReadTracker acknowledges messages the user has seen. */
export class ReadTracker {
  private readonly watched = new Map<Element, Watched>();
  private readonly given = new Set<string>(); // ids being acked or refused for good
  private readonly settled = new Map<string, AckOutcome>();
  private readonly onAck?: (mid: string, result: AckOutcome) => void;
  private readonly io?: IntersectionObserver;
  private readonly doc?: Document;
  private readonly dwellMs: number;
  private readonly threshold: number;
  private readonly flushMs: number;
  private dueList: Watched[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private disposed = false;
  private readonly onVisibility = () => this.visibilityChanged();

  constructor(
    private readonly host: TrackerHost,
    opts: ReadTrackerOptions = {},
  ) {
    this.dwellMs = opts.dwellMs ?? 1000;
    this.threshold = opts.threshold ?? 0.5;
    this.flushMs = opts.flushMs ?? 50;
    this.onAck = opts.onAck;
    this.doc = opts.document ?? (globalThis as { document?: Document }).document;
    const IO = opts.IntersectionObserver ?? (globalThis as { IntersectionObserver?: typeof IntersectionObserver }).IntersectionObserver;
    if (IO) {
      this.io = new IO((entries) => this.intersect(entries), { root: opts.root ?? null, threshold: [0, this.threshold] });
    }
    this.doc?.addEventListener?.('visibilitychange', this.onVisibility);
  }

  /**
   * acked holds every message whose ack this tracker has seen settled, with the result given to
   * `onAck`: accepted (`counted` true or false) or refused for good (`error`).
   */
  get acked(): ReadonlyMap<string, AckOutcome> {
    return this.settled;
  }

  /**
   * observe watches element, which shows message (v4 or v3 shape). Messages that need no ack (not a
   * group message, no receipt requested, sent by this user, already acknowledged) are ignored.
   */
  observe(el: Element, message: unknown): void {
    if (this.disposed || !el) return;
    const t = ackTarget(message, this.host.user);
    if (!t || this.settled.has(t.mid) || this.given.has(t.mid)) return;
    if (this.host.acked.has(t.mid)) {
      // Acknowledged on this connection before: settled, and nothing to send. Reported after
      // observe returns, so that a handler never runs inside the caller's rendering.
      queueMicrotask(() => this.settle(t.mid, { counted: false }));
      return;
    }
    if (this.watched.has(el)) this.unobserve(el);
    this.watched.set(el, { el, mid: t.mid, groupId: t.groupId, visible: false, elapsed: 0, startedAt: 0, due: false });
    if (this.io) this.io.observe(el);
    else {
      // No IntersectionObserver: treat the element as visible.
      const w = this.watched.get(el)!;
      w.visible = true;
      this.start(w);
    }
  }

  /** unobserve stops watching element. */
  unobserve(el: Element): void {
    const w = this.watched.get(el);
    if (!w) return;
    clearTimeout(w.timer);
    this.watched.delete(el);
    this.io?.unobserve(el);
  }

  /** dispose stops everything; acks already due are still sent. */
  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    for (const el of [...this.watched.keys()]) this.unobserve(el);
    this.io?.disconnect();
    this.doc?.removeEventListener?.('visibilitychange', this.onVisibility);
    clearTimeout(this.flushTimer);
  }

  private pageVisible(): boolean {
    return !this.doc || this.doc.visibilityState === undefined || this.doc.visibilityState === 'visible';
  }

  private intersect(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const w = this.watched.get(e.target);
      if (!w || w.due) continue;
      const visible = e.isIntersecting && e.intersectionRatio >= this.threshold;
      if (visible && !w.visible) {
        w.visible = true;
        w.elapsed = 0;
        this.start(w);
      } else if (!visible && w.visible) {
        // Scrolled away: the dwell starts over next time.
        w.visible = false;
        clearTimeout(w.timer);
        w.timer = undefined;
        w.elapsed = 0;
      }
    }
  }

  private start(w: Watched): void {
    if (w.timer || w.due || !w.visible || !this.pageVisible()) return;
    w.startedAt = Date.now();
    w.timer = setTimeout(() => this.fire(w), Math.max(0, this.dwellMs - w.elapsed));
  }

  private pause(w: Watched): void {
    if (!w.timer) return;
    clearTimeout(w.timer);
    w.timer = undefined;
    w.elapsed += Date.now() - w.startedAt;
  }

  private visibilityChanged(): void {
    const visible = this.pageVisible();
    for (const w of this.watched.values()) {
      if (visible) this.start(w);
      else this.pause(w);
    }
  }

  private fire(w: Watched): void {
    w.timer = undefined;
    if (this.watched.get(w.el) !== w) return;
    if (this.host.acked.has(w.mid) || this.given.has(w.mid)) {
      this.unobserve(w.el);
      if (this.host.acked.has(w.mid)) this.settle(w.mid, { counted: false });
      return;
    }
    w.due = true;
    this.given.add(w.mid);
    this.dueList.push(w);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.flushMs);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const due = this.dueList;
    this.dueList = [];
    const byGroup = new Map<string, Watched[]>();
    for (const w of due) {
      let list = byGroup.get(w.groupId);
      if (!list) byGroup.set(w.groupId, (list = []));
      list.push(w);
    }
    for (const [groupId, list] of byGroup) {
      const results = this.host.ackGroup(groupId, list.map((w) => ({ msgId: w.mid })));
      list.forEach((w, i) => {
        results[i].then(
          (r) => {
            this.unobserve(w.el);
            this.settle(w.mid, r.count === undefined ? { counted: !!r.counted } : { counted: !!r.counted, count: r.count });
          },
          (err: WebIMError) => {
            if (!transient.has(err?.type)) {
              this.unobserve(w.el); // refused for good (not a member, no such message): never retry
              this.settle(w.mid, { counted: false, error: err });
              return;
            }
            // Try again after another dwell if it is still on screen.
            this.given.delete(w.mid);
            w.due = false;
            w.elapsed = 0;
            if (this.watched.get(w.el) === w) this.start(w);
          },
        );
      });
    }
  }

  /** settle records how mid's ack ended and tells onAck, once per message. */
  private settle(mid: string, result: AckOutcome): void {
    if (this.settled.has(mid)) return;
    this.settled.set(mid, result);
    try {
      this.onAck?.(mid, result);
    } catch (err) {
      console.error('readTracker onAck handler threw', err);
    }
  }
}

/**
 * The inbox: everything that arrives, live (pushes) or caught up (the `sync` and `receipt.stats`
 * streams, each followed by a {@link StreamFollower}), becomes app events here, once each:
 * messages and stored receipts are deduplicated by server id, and reader counts never go
 * backwards ({@link ReadCounts}).
 */
import type { Emitter } from './events';
import { uniqueId } from './ids';
import { toV3, toV4 } from './message';
import type {
  ChannelPush,
  ConvReadPush,
  GroupPush,
  PeerReceiptPush,
  PushFrame,
  ReceiptPush,
  ReminderPush,
  StatsEntry,
  StatsReply,
  SyncReply,
  WireMessage,
} from './protocol';
import { Requester, Stream, StreamFollower } from './follower';
import type { ChatType, StatisticEntry } from './types';
import { noop } from './callbacks';

/**
 * ReadCounts keeps the largest reader count seen per message: counts never go backwards; nor
 * does "read by all" (the server's `readByAll`, which a late push from another node may lack).
 */
export class ReadCounts {
  private counts = new Map<string, number>();
  private all = new Set<string>();

  /**
   * readByAll is the `eligible` / `readByAll` pair of a group receipt or statistics entry for
   * mid, when the server sent eligible; readByAll stays true once the server said so.
   */
  readByAll(mid: string, r: { eligible?: number; readByAll?: boolean }): { eligible?: number; readByAll?: boolean } {
    if (r.readByAll) this.all.add(mid);
    return r.eligible ? { eligible: r.eligible, readByAll: this.all.has(mid) } : {};
  }

  /** max records a reader count for mid and returns the largest seen. */
  max(mid: string, count: number): number {
    const prev = this.counts.get(mid) ?? 0;
    const n = Math.max(prev, typeof count === 'number' ? count : 0);
    this.counts.set(mid, n);
    return n;
  }

  /** get returns the largest count seen for mid, 0 if none. */
  get(mid: string): number {
    return this.counts.get(mid) ?? 0;
  }
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

/** A single-chat receipt, live or stored, in the form the events are built from. */
interface PeerReceipt {
  id?: string;
  from: string;
  to: string;
  mid: string;
  chatType?: ChatType;
  time: number;
}

/** One run of the statistics stream: whether it is full, and the entries to report, by message. */
interface StatsRun {
  full: boolean;
  entries: Map<string, StatsEntry>;
}

/** Inbox turns pushes and stream pages into events. */
export class Inbox {
  /** The reader counts seen, by message id. */
  readonly counts = new ReadCounts();
  /** The sync stream: messages and stored single-chat receipts. */
  readonly sync: StreamFollower<SyncReply, void>;
  /** The receipt statistics stream: reader counts that changed. */
  readonly stats: StreamFollower<StatsReply, StatsRun>;
  private seenIds = new Set<string>();

  constructor(private readonly host: InboxHost) {
    const onError = (err: Parameters<Emitter['error']>[0]) => host.emit.error(err);
    this.sync = new StreamFollower(this.syncStream(), host.request, onError, host.debounceMs);
    this.stats = new StreamFollower(this.statsStream(), host.request, onError, host.debounceMs);
  }

  /** catchUp follows both streams from their confirmed positions: after every (re)connect and resync. */
  catchUp(): void {
    void this.sync.run();
    void this.stats.run(true);
  }

  /** stop cancels the scheduled confirming runs: the session ended. */
  stop(): void {
    this.sync.stop();
    this.stats.stop();
  }

  /** push turns one push into events. */
  push(f: PushFrame): void {
    const d = f.data ?? {};
    switch (f.push) {
      case 'msg':
        this.deliver(d as WireMessage);
        this.sync.schedule();
        break;
      case 'receipt':
        this.groupReceipt(d as ReceiptPush);
        this.stats.schedule();
        break;
      case 'read':
      case 'delivery': {
        const r = d as PeerReceiptPush;
        if (this.firstSight(r.id)) this.peerReceipt(f.push, { id: r.id, from: r.from, to: r.to, mid: r.mid, time: r.timestamp });
        // The receipt is stored in the stream: confirm it so that it does not come back.
        if (r.id) this.sync.schedule();
        break;
      }
      case 'channel': {
        const c = d as ChannelPush;
        if (this.firstSight(c.id)) this.peerReceipt('channel', { id: c.id, chatType: c.chatType, from: c.from, to: c.to, mid: '', time: c.timestamp });
        if (c.id) this.sync.schedule();
        break;
      }
      case 'receipt.reminder':
        this.reminder(d as ReminderPush);
        // The reminder is stored in the stream: confirm it so that it does not come back.
        this.sync.schedule();
        break;
      case 'conv.read': {
        const c = d as ConvReadPush;
        const e = { chatType: c.chatType, to: c.to, seq: c.seq };
        this.host.emit.emit('onConversationRead', e, e);
        break;
      }
      case 'group':
        this.group(d as GroupPush);
        break;
      case 'resync':
        // The server's node lost the cluster bus for a while: catch up from the store as after a
        // reconnect. Counts that changed arrive as one onStatisticMessage.
        this.catchUp();
        break;
      default:
        // A push this version does not know: newer servers may add some.
        break;
    }
  }

  /** remember marks a server id as seen, so that its copy from sync or a push fires nothing. */
  remember(id: string): void {
    this.seenIds.add(id);
    if (this.seenIds.size > 20000) {
      // Forget the oldest half: sync confirmations keep old messages from coming back anyway.
      let n = 10000;
      for (const old of this.seenIds) {
        if (n-- <= 0) break;
        this.seenIds.delete(old);
      }
    }
  }

  private group(g: GroupPush): void {
    const user = this.host.user();
    const v4 = { operation: g.op, id: g.groupId, name: g.groupName ?? '', from: g.actor, to: user, userId: g.users?.[0], users: g.users ?? [], time: g.timestamp };
    const v3 = { type: g.op, gid: g.groupId, groupName: g.groupName ?? '', from: g.actor, to: user, users: g.users ?? [], time: String(g.timestamp ?? '') };
    this.host.emit.emit('group', v4, v3);
  }

  private groupReceipt(r: ReceiptPush): void {
    const count = this.counts.max(r.mid, r.count);
    const id = uniqueId();
    const groupReadCount = { [r.mid]: count };
    const all = this.counts.readByAll(r.mid, r);
    const v4 = { id, type: 'read' as const, from: r.from, to: r.groupId, mid: r.mid, groupReadCount, ackContent: r.ackContent ?? '', time: r.timestamp, ...all };
    const v3 = { mid: r.mid, groupReadCount: { ...groupReadCount }, ackContent: r.ackContent ?? '', from: r.from, to: r.groupId, ...all };
    this.host.emit.emit('onReadMessage', v4, v3);
  }

  /** firstSight reports whether a pushed receipt is new (true when it has no id), and remembers it. */
  private firstSight(id: string | undefined): boolean {
    if (typeof id !== 'string' || !id) return true;
    if (this.seenIds.has(id)) return false;
    this.remember(id);
    return true;
  }

  /**
   * peerReceipt fires the event of a single-chat receipt, live (a push) or stored (from sync), in
   * the same shapes either way. Its id is the stored receipt's server id when known.
   */
  private peerReceipt(kind: string, r: PeerReceipt): void {
    const id = r.id || uniqueId();
    const time = String(r.time ?? '');
    const emit = this.host.emit;
    if (kind === 'channel') {
      const chatType = r.chatType ?? 'singleChat';
      emit.emit('onChannelMessage', { id, type: 'channel', chatType, from: r.from, to: r.to, time: r.time }, { id, type: 'channel', chatType, from: r.from, to: r.to, time });
      return;
    }
    const v3 = { id, mid: r.mid, from: r.from, to: r.to, time };
    if (kind === 'read') emit.emit('onReadMessage', { id, type: 'read', from: r.from, to: r.to, mid: r.mid, time: r.time }, v3);
    else emit.emit('onDeliveredMessage', { id, type: 'delivery', from: r.from, to: r.to, mid: r.mid, time: r.time }, v3);
  }

  /** reminder fires onReminder once per reminder id, live (a push) or stored (from sync). */
  private reminder(r: ReminderPush): void {
    if (!r || typeof r.id !== 'string' || !this.firstSight(r.id)) return;
    const v4 = { id: r.id, type: 'remind' as const, chatType: 'groupChat' as const, from: r.from, to: r.groupId, mid: r.msgId, time: r.at };
    this.host.emit.emit('onReminder', v4, { id: r.id, mid: r.msgId, from: r.from, to: r.groupId, time: String(r.at ?? '') });
  }

  /** deliver fires the event of a message (or stored receipt) from a push or sync, once per id. */
  private deliver(m: WireMessage): void {
    if (!m || typeof m.id !== 'string') return;
    if (m.type === 'remind') return this.reminder(m as unknown as ReminderPush);
    if (this.seenIds.has(m.id)) return;
    this.remember(m.id);
    if (m.type === 'read' || m.type === 'delivery' || m.type === 'channel') {
      // A stored single-chat receipt that this device missed live. A stored read or delivery
      // always names its message (mid); a channel ack names none.
      this.peerReceipt(m.type, { id: m.id, from: m.from, to: m.to, mid: m.mid as string, chatType: m.chatType, time: m.time });
      return;
    }
    if (typeof m.readCount === 'number') this.counts.max(m.id, m.readCount);
    if (m.type === 'txt') this.host.emit.emit('onTextMessage', toV4(m), toV3(m));
    else if (m.type === 'custom') this.host.emit.emit('onCustomMessage', toV4(m), toV3(m));
    if (this.host.delivery() && m.chatType === 'singleChat' && m.from !== this.host.user()) {
      this.host.request('receipt.delivered', { to: m.from, msgId: m.id }).catch(noop);
    }
  }

  /** syncStream delivers every message of the sync stream. */
  private syncStream(): Stream<SyncReply, void> {
    return {
      op: 'sync',
      limit: 100,
      begin: () => undefined,
      page: (_run, r) => {
        for (const m of r.messages ?? []) this.deliver(m);
      },
      end: noop,
    };
  }

  /**
   * statsStream gathers the receipt statistics of a run and fires onStatisticMessage once at its
   * end: after a (re)connect (a full run) with every entry; after live receipts only with the
   * entries whose count is above what was seen live. Nothing changed: no event.
   */
  private statsStream(): Stream<StatsReply, StatsRun> {
    return {
      op: 'receipt.stats',
      limit: 500,
      begin: (full) => ({ full, entries: new Map() }),
      page: (run, r) => {
        for (const e of r.entries ?? []) {
          const before = this.counts.get(e.mid);
          const count = this.counts.max(e.mid, e.count);
          if (run.full || count > before) run.entries.set(e.mid, { ...e, count });
        }
      },
      end: ({ entries }) => {
        if (entries.size === 0) return;
        const groupAck: StatisticEntry[] = [...entries.values()].map((e) => ({ mid: e.mid, groupId: e.groupId, count: e.count, from: e.from, ackContent: e.ackContent ?? '', timestamp: e.timestamp, ...this.counts.readByAll(e.mid, e) }));
        const payload = { operation: 0 as const, location: JSON.stringify({ group_ack: groupAck }) };
        this.host.emit.emit('onStatisticMessage', payload, { ...payload });
      },
    };
  }
}

/**
 * Read-receipt batching: `read` sends made in the same tick for the same group become one
 * `receipt.ack` of up to 100 items; each send still settles from its own item's result.
 */
import { clientCodes, clientError, fromWire, WebIMError } from './errors';
import type { AckResultItem } from './protocol';

/** The most items one receipt.ack may carry (chat.MaxAckBatch). */
export const maxAckBatch = 100;

/** One item of a receipt.ack request. */
export interface AckItem {
  msgId: string;
  ackContent?: string;
}

interface Waiter {
  item: AckItem;
  resolve: (r: AckResultItem) => void;
  reject: (e: WebIMError) => void;
}

/** Sends one receipt.ack and returns its reply data. */
export type AckSender = (groupId: string, items: AckItem[]) => Promise<{ results?: AckResultItem[] }>;

/** ReadBatcher coalesces acks per group until the end of the current tick (a microtask). */
export class ReadBatcher {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;

  constructor(private readonly send: AckSender) {}

  /** add queues one ack; the promise settles with the item's own result. */
  add(groupId: string, item: AckItem): Promise<AckResultItem> {
    return new Promise((resolve, reject) => {
      let list = this.pending.get(groupId);
      if (!list) this.pending.set(groupId, (list = []));
      list.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** flush sends everything queued now. */
  flush(): void {
    this.scheduled = false;
    const groups = this.pending;
    this.pending = new Map();
    for (const [groupId, waiters] of groups) {
      // One item per message: a repeat in the same tick shares the first one's result.
      const byId = new Map<string, Waiter[]>();
      const items: AckItem[] = [];
      for (const w of waiters) {
        const same = byId.get(w.item.msgId);
        if (same) same.push(w);
        else {
          byId.set(w.item.msgId, [w]);
          items.push(w.item);
        }
      }
      for (let i = 0; i < items.length; i += maxAckBatch) {
        this.sendChunk(groupId, items.slice(i, i + maxAckBatch), byId);
      }
    }
  }

  private sendChunk(groupId: string, items: AckItem[], byId: Map<string, Waiter[]>): void {
    this.send(groupId, items).then(
      (reply) => {
        const results = reply?.results ?? [];
        items.forEach((item, i) => {
          const r = results[i]?.msgId === item.msgId ? results[i] : results.find((x) => x.msgId === item.msgId);
          for (const w of byId.get(item.msgId) ?? []) {
            if (!r) w.reject(clientError(clientCodes.REQUEST_UNKNOWN, 'no result for message ' + item.msgId, { msgId: item.msgId }));
            else if (r.ok) w.resolve(r);
            else w.reject(fromWire(r.error, { msgId: item.msgId }));
          }
        });
      },
      (err: WebIMError) => {
        for (const item of items) for (const w of byId.get(item.msgId) ?? []) w.reject(err);
      },
    );
  }
}

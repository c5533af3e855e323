import type { AckResultItem } from './protocol';
/** The most items one receipt.ack may carry (chat.MaxAckBatch). */
export declare const maxAckBatch = 100;
/** One item of a receipt.ack request. */
export interface AckItem {
    msgId: string;
    ackContent?: string;
}
/** Sends one receipt.ack and returns its reply data. */
export type AckSender = (groupId: string, items: AckItem[]) => Promise<{
    results?: AckResultItem[];
}>;
/** ReadBatcher coalesces acks per group until the end of the current tick (a microtask). */
export declare class ReadBatcher {
    private readonly send;
    private pending;
    private scheduled;
    constructor(send: AckSender);
    /** add queues one ack; the promise settles with the item's own result. */
    add(groupId: string, item: AckItem): Promise<AckResultItem>;
    /** flush sends everything queued now. */
    flush(): void;
    private sendChunk;
}

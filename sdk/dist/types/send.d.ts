/**
 * Sending: `conn.send` of a message body, v3 or v4. txt and custom messages become `msg.send`;
 * the receipts become their ops: `read` (group: batched `receipt.ack`; single chat:
 * `receipt.read`), `delivery` (`receipt.delivered`) and `channel` (`conv.ack`).
 */
import { AckItem } from './batch';
import type { Requester } from './follower';
import { Message, MessageBody } from './message';
import type { AckResultItem } from './protocol';
import type { SendResult } from './results';
/** What sending needs from the connection. */
export interface SendHost {
    /** The logged-in user. */
    user(): string;
    /** Messages this connection has acknowledged as read: filled here, read by the trackers. */
    readonly acked: Set<string>;
    request: Requester;
    /** Marks a server id as seen (its copy from sync fires nothing) and schedules a confirming sync. */
    sent(serverId: string): void;
}
/** Sender sends messages and receipts for a connection. */
export declare class Sender {
    private readonly host;
    private readonly batcher;
    constructor(host: SendHost);
    /** send sends a body and calls its v3 `success` / `fail`; see `Connection.send`. */
    send(msg: MessageBody | Message): Promise<SendResult>;
    /** ackGroup queues acks of one group's messages in the batcher; acked ids are remembered. */
    ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[];
}

/**
 * Sending: `conn.send` of a message body, v3 or v4. txt and custom messages become `msg.send`;
 * the receipts become their ops: `read` (group: batched `receipt.ack`; single chat:
 * `receipt.read`), `delivery` (`receipt.delivered`) and `channel` (`conv.ack`).
 */
import type { AckItem } from './batch';
import type { Requester } from './follower';
import { MessageBody } from './message';
import type { AckResultItem } from './protocol';
import type { SendResult } from './results';
/** What sending needs from the connection. */
export interface SendHost {
    /** The logged-in user. */
    user(): string;
    /** Messages this connection has acknowledged as read. */
    readonly acked: Set<string>;
    request: Requester;
    /** Marks a server id as seen (its copy from sync fires nothing) and schedules a confirming sync. */
    sent(serverId: string): void;
    ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[];
}
/** sendBody sends one message body and resolves what `conn.send` resolves. */
export declare function sendBody(host: SendHost, body: MessageBody): Promise<SendResult>;

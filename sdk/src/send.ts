/**
 * Sending: `conn.send` of a message body, v3 or v4. txt and custom messages become `msg.send`;
 * the receipts become their ops: `read` (group: batched `receipt.ack`; single chat:
 * `receipt.read`), `delivery` (`receipt.delivered`) and `channel` (`conv.ack`).
 */
import { AckItem, ReadBatcher } from './batch';
import { noop } from './callbacks';
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import { isV3Body, Message, MessageBody, normalizeChatType, sendRequest } from './message';
import type { AckResultItem, SendReply } from './protocol';
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
export class Sender {
  private readonly batcher: ReadBatcher;

  constructor(private readonly host: SendHost) {
    this.batcher = new ReadBatcher((groupId, items) => host.request('receipt.ack', { groupId, items }));
  }

  /** send sends a body and calls its v3 `success` / `fail`; see `Connection.send`. */
  send(msg: MessageBody | Message): Promise<SendResult> {
    const body: MessageBody = msg instanceof Message ? msg.body : msg;
    const p = sendBody(this.host, (groupId, items) => this.ackGroup(groupId, items), body);
    p.then(
      (r) => body?.success?.(r.localMsgId, r.serverMsgId),
      (e) => body?.fail?.(e),
    );
    // A v3 app learns the outcome from success/fail and never looks at the promise.
    if (body && (isV3Body(body) || typeof body.fail === 'function')) p.catch(noop);
    return p;
  }

  /** ackGroup queues acks of one group's messages in the batcher; acked ids are remembered. */
  ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[] {
    return items.map((item) =>
      this.batcher.add(groupId, item).then((r) => {
        this.host.acked.add(item.msgId);
        return r;
      }),
    );
  }
}

/** Acknowledges group messages as read, one promise per item. */
type GroupAcker = (groupId: string, items: AckItem[]) => Promise<AckResultItem>[];

/** sendBody sends one message body and resolves what `conn.send` resolves. */
async function sendBody(host: SendHost, ackGroup: GroupAcker, body: MessageBody): Promise<SendResult> {
  if (!body || typeof body !== 'object') throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'send needs a message');
  if (typeof body.chatType === 'string' && /^chatroom$/i.test(body.chatType)) {
    throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'seen has no chat rooms: use chatType groupChat');
  }
  const { success: _s, fail: _f, ...plain } = body;
  const message = plain as MessageBody;
  const chatType = normalizeChatType(body.chatType, body);
  switch (body.type) {
    case 'txt':
    case 'custom': {
      const data = sendRequest(body);
      const r = await host.request<SendReply>('msg.send', data);
      host.sent(r.id);
      return { localMsgId: String(data.localId), serverMsgId: r.id, message: { ...message, id: r.id, from: host.user(), time: r.time, chatType } };
    }
    case 'read': {
      const mid = String(body.id ?? '');
      if (!mid || !body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a read receipt needs id (the message read) and to');
      if (chatType === 'groupChat') {
        const item: AckItem = { msgId: mid };
        if (body.ackContent !== undefined && body.ackContent !== null) item.ackContent = typeof body.ackContent === 'string' ? body.ackContent : JSON.stringify(body.ackContent);
        const r = await ackGroup(String(body.to), [item])[0];
        return { localMsgId: mid, serverMsgId: '', message, counted: !!r.counted, count: r.count };
      }
      await host.request('receipt.read', { to: String(body.to), msgId: mid });
      host.acked.add(mid);
      return { localMsgId: mid, serverMsgId: '', message };
    }
    case 'delivery': {
      const mid = String(body.id ?? '');
      if (!mid || !body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a delivery receipt needs id (the message delivered) and to');
      await host.request('receipt.delivered', { to: String(body.to), msgId: mid });
      return { localMsgId: mid, serverMsgId: '', message };
    }
    case 'channel': {
      if (!body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a channel ack needs to');
      const r = await host.request<{ receiptsCounted?: number }>('conv.ack', { chatType, to: String(body.to) });
      return { localMsgId: String(body.id ?? ''), serverMsgId: '', message, receiptsCounted: r?.receiptsCounted ?? 0 };
    }
    default:
      throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, `message type ${JSON.stringify(body.type)} is not supported by seen (txt, custom, read, delivery, channel)`);
  }
}

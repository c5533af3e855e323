/**
 * Messages in both API styles, and their conversion to and from the wire.
 *
 * v3: `const m = new WebIM.message('txt', id); m.set({...}); conn.send(m.body)`.
 * v4: `const m = WebIM.message.create({...}); await conn.send(m)`.
 * Incoming messages are delivered in the v4 shape to `addEventHandler` handlers and in the v3
 * ("listen") shape to `listen` handlers.
 */
import { WebIMError } from './errors';
import type { ChatType, WireMessage } from './protocol';
import type { ReceivedMessage, V3ReceivedMessage } from './types';
/** The message types seen sends. */
export type MessageType = 'txt' | 'custom' | 'read' | 'delivery' | 'channel';
/** Message configuration: `allowGroupAck` asks the group's members for read receipts. */
export interface MsgConfig {
    allowGroupAck?: boolean;
    [key: string]: unknown;
}
/**
 * A message body, as built by `new WebIM.message(...).set(...)` or `WebIM.message.create(...)`.
 * For `read` and `delivery`, `id` is the server id of the message acknowledged.
 */
export interface MessageBody {
    id: string;
    type: MessageType | string;
    chatType?: string;
    to: string;
    from?: string;
    msg?: string;
    ext?: Record<string, unknown>;
    msgConfig?: MsgConfig;
    ackContent?: string;
    customEvent?: string;
    customExts?: Record<string, unknown>;
    /** v3 callback: the server stored the message (or accepted the receipt). */
    success?: (localId: string, serverMsgId: string) => void;
    /** v3 callback: the server refused it. */
    fail?: (err: WebIMError) => void;
    time?: number;
    [key: string]: unknown;
}
/** Fields of `WebIM.message.create`. */
export interface CreateOptions extends Partial<MessageBody> {
    type: MessageType;
}
/** isV3Body reports whether body was built by the v3 `new WebIM.message(...)`. */
export declare function isV3Body(body: object): boolean;
/**
 * The v3 message builder. `set` keeps every field given; `body` is what `conn.send` takes, and
 * may be changed after `set` (`m.body.msgConfig = {...}` takes effect).
 */
export declare class Message {
    id: string;
    type: string;
    body: MessageBody;
    constructor(type: MessageType | string, id?: string | number);
    /** set copies every field of opts into the body (v3 `group: 'groupchat'` means a group chat). */
    set(opts: Partial<MessageBody> & Record<string, unknown>): this;
    /** setChatType sets `'singleChat'` or `'groupChat'`; it works on every type, `read` included. */
    setChatType(chatType: string): this;
    /** setGroup is the v3 spelling of a group chat: `setGroup('groupchat')`. */
    setGroup(group: string): this;
    /** create builds a v4 message. */
    static create(opts: CreateOptions): MessageBody;
}
/** create builds a v4 message: a plain object with a local `id` (unless one is given) and `time`. */
export declare function create(opts: CreateOptions): MessageBody;
/** normalizeChatType maps every vendor spelling to seen's. */
export declare function normalizeChatType(ct: unknown, body?: Record<string, unknown>): ChatType;
/** The `msg.send` request data for a txt or custom body (only the fields the server knows). */
export declare function sendRequest(body: MessageBody): Record<string, unknown>;
/**
 * The v4 shape of an incoming message (`addEventHandler`, history, conversation list). `self`, the
 * logged-in user, gives their own single-chat messages `isRead` / `isDelivered` (for history).
 */
export declare function toV4(m: WireMessage, self?: string): ReceivedMessage;
/** The v3 ("listen") shape of an incoming message: `type` is `'chat'` or `'groupchat'`, `time` a string. */
export declare function toV3(m: WireMessage, self?: string): V3ReceivedMessage;

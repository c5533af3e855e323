/**
 * The public types of the WebIM API: the options of `new WebIM.connection` and the payload of
 * every event (v4 shape for `addEventHandler` handlers, v3 shape for `listen` handlers); method
 * results are in results.ts. Types only: nothing here exists at run time. index.ts exports all
 * of them, so that apps (and seen's demo) type their code against the SDK itself.
 */
import type { WebIMError } from './errors';
import type { MsgConfig } from './message';
import type { ChatType } from './protocol';
import type { SocketCtor } from './transport';
export type { ChatType };
/** Options of `new WebIM.connection(...)`. Unknown vendor options are accepted and ignored. */
export interface ConnectionOptions {
    /** The WebSocket endpoint (`wss://host/ws`) or the server's http(s) base. Default: the page origin. */
    url?: string;
    /** The REST base (`https://host`). Default: the page origin, or derived from `url`. */
    apiUrl?: string;
    /** The vendor app key (`org#app`): accepted, not used yet. */
    appKey?: string;
    /** Send delivery receipts for single-chat messages automatically. */
    delivery?: boolean;
    /** Heartbeat interval in ms (the `ping` op); default: the server's advice, else 20000. */
    heartBeatWait?: number;
    /** Reconnect attempts before giving up after a drop; default Infinity. */
    autoReconnectNumMax?: number;
    /** This device's id; default: kept in localStorage under `seen.deviceId`. */
    deviceId?: string;
    /** (seen) Queue requests made while reconnecting instead of failing them at once. */
    queueWhileDisconnected?: boolean;
    /** (seen) How long to wait for a reply, in ms; default 20000. */
    requestTimeout?: number;
    /** (seen) A WebSocket constructor, for Node (`import WebSocket from 'ws'`). */
    WebSocket?: SocketCtor;
    /** (seen) A fetch function; default the global fetch. */
    fetch?: typeof fetch;
    /** (seen) Reconnect backoff: first cap and largest cap, in ms (defaults 1000 and 30000). */
    reconnectBaseMs?: number;
    reconnectMaxMs?: number;
    /** (seen) How long after live pushes to confirm them with `sync`, in ms; default 1000. */
    syncDebounceMs?: number;
    [vendorOption: string]: unknown;
}
/** An incoming or stored message in the v4 shape (`addEventHandler`, history, conversations). */
export interface ReceivedMessage {
    /** The server id. */
    id: string;
    type: 'txt' | 'custom' | string;
    chatType: ChatType;
    from: string;
    to: string;
    /** txt only. */
    msg?: string;
    /** custom only. */
    customEvent?: string;
    customExts?: Record<string, unknown>;
    ext: Record<string, unknown>;
    /** Milliseconds since the epoch. */
    time: number;
    msgConfig?: MsgConfig;
    /** (seen) The reader count, on my own group messages in history and sync. */
    readCount?: number;
    /** On my own single-chat messages in history: the peer read it / it reached the peer. */
    isRead?: boolean;
    isDelivered?: boolean;
}
/** An incoming message in the v3 (`listen`) shape: `type` is the chat type, `time` a string. */
export interface V3ReceivedMessage {
    id: string;
    type: 'chat' | 'groupchat';
    from: string;
    to: string;
    /** txt only: the text. */
    data?: string;
    customEvent?: string;
    customExts?: Record<string, unknown>;
    /** custom only: the same object as customExts (the v3 name). */
    params?: Record<string, unknown>;
    ext: Record<string, unknown>;
    /** Milliseconds since the epoch, as a decimal string. */
    time: string;
    msgConfig?: MsgConfig;
    isRead?: boolean;
    isDelivered?: boolean;
}
/**
 * `onReadMessage`, v4 shape. In a group: `from` is the reader, `to` the group, and
 * `groupReadCount: { [mid]: count }` the reader count (never going backwards), with the reader's
 * `ackContent`. In a single chat: no `groupReadCount` and no `ackContent`.
 */
export interface ReadReceiptEvent {
    id: string;
    type: 'read';
    from: string;
    to: string;
    /** The server id of the message read. */
    mid: string;
    groupReadCount?: Record<string, number>;
    ackContent?: string;
    time: number;
    /** (seen) Group: the eligible readers when it was sent, and whether all of them have read it now. */
    eligible?: number;
    readByAll?: boolean;
}
/** `onReadMessage`, v3 shape: a group receipt has `groupReadCount` and `ackContent`, a single-chat one `id` and `time`. */
export interface V3ReadReceiptEvent {
    id?: string;
    mid: string;
    from: string;
    to: string;
    groupReadCount?: Record<string, number>;
    ackContent?: string;
    time?: string;
    eligible?: number;
    readByAll?: boolean;
}
/** `onDeliveredMessage`, v4 shape: the message `mid` reached the peer `from`. */
export interface DeliveryReceiptEvent {
    id: string;
    type: 'delivery';
    from: string;
    to: string;
    mid: string;
    time: number;
}
/** `onDeliveredMessage`, v3 shape. */
export interface V3DeliveryReceiptEvent {
    id: string;
    mid: string;
    from: string;
    to: string;
    time: string;
}
/** `onChannelMessage`, v4 shape: `from` acknowledged the whole conversation. */
export interface ChannelAckEvent {
    id: string;
    type: 'channel';
    chatType: ChatType;
    from: string;
    to: string;
    time: number;
}
/** `onChannelMessage`, v3 shape. */
export interface V3ChannelAckEvent {
    id: string;
    type: 'channel';
    chatType: ChatType;
    from: string;
    to: string;
    time: string;
}
/** `onGroupEvent` / `onGroupChange`, v4 shape. `operation` is the server's group op (e.g. `memberPresence`). */
export interface GroupEvent {
    operation: string;
    /** The group id. */
    id: string;
    name: string;
    /** Who did it. */
    from: string;
    /** This user. */
    to: string;
    /** The first user concerned, if any. */
    userId?: string;
    users: string[];
    time: number;
}
/** `onGroupEvent` / `onGroupChange`, v3 shape. */
export interface V3GroupEvent {
    type: string;
    gid: string;
    groupName: string;
    from: string;
    to: string;
    users: string[];
    time: string;
}
/** `onStatisticMessage` (both shapes): `JSON.parse(location)` is a {@link StatisticLocation}. */
export interface StatisticEvent {
    operation: 0;
    location: string;
}
/** The parsed `location` of `onStatisticMessage`. */
export interface StatisticLocation {
    group_ack: StatisticEntry[];
}
/**
 * One entry of `onStatisticMessage`: count = readers now; from = the latest reader. (seen)
 * eligible: the eligible readers when it was sent (when known); readByAll: all of them have read it.
 */
export interface StatisticEntry {
    mid: string;
    groupId: string;
    count: number;
    from: string;
    ackContent: string;
    timestamp: number;
    eligible?: number;
    readByAll?: boolean;
}
/** (seen) `onConversationRead` (both shapes): another device of this user marked a conversation read. */
export interface ConversationReadEvent {
    chatType: ChatType;
    to: string;
    seq: number;
}
/**
 * (seen) `onReminder`, v4 shape: `from` (the sender, the owner or an admin) reminded this user to
 * read group message `mid` in group `to`. `id` is the reminder's own server id: each reminder
 * fires once, whether it came live or from sync after login.
 */
export interface ReminderEvent {
    id: string;
    type: 'remind';
    chatType: 'groupChat';
    from: string;
    to: string;
    mid: string;
    time: number;
}
/** (seen) `onReminder`, v3 shape: `time` is a decimal string. */
export interface V3ReminderEvent {
    id: string;
    mid: string;
    from: string;
    to: string;
    time: string;
}
/** `onReconnecting` (both shapes): the attempt about to be made, after delay ms. */
export interface ReconnectingEvent {
    attempt: number;
    delay: number;
}
/**
 * A handler of a vendor event seen never fires (`onPresence`, `onRecallMessage`, ...): accepted
 * and kept, so that vendor apps compile and run unchanged. Its payload is the vendor's, unknown here.
 */
export type VendorHandler = (e: any) => void;
/** Event handlers for `addEventHandler`, with the v4 payloads; the v3 names are accepted too. */
export interface Handlers {
    onOpened?: (e?: unknown) => void;
    onConnected?: (e?: unknown) => void;
    onClosed?: (e?: unknown) => void;
    onDisconnected?: (e?: unknown) => void;
    onReconnecting?: (e: ReconnectingEvent) => void;
    onError?: (e: WebIMError) => void;
    onTextMessage?: (m: ReceivedMessage) => void;
    onCustomMessage?: (m: ReceivedMessage) => void;
    onReadMessage?: (m: ReadReceiptEvent) => void;
    onStatisticMessage?: (m: StatisticEvent) => void;
    onDeliveredMessage?: (m: DeliveryReceiptEvent) => void;
    onChannelMessage?: (m: ChannelAckEvent) => void;
    onGroupEvent?: (m: GroupEvent) => void;
    onGroupChange?: (m: GroupEvent) => void;
    /** (seen) Another device of this user marked a conversation read. */
    onConversationRead?: (m: ConversationReadEvent) => void;
    /** (seen) Someone reminded this user to read a group message. */
    onReminder?: (m: ReminderEvent) => void;
    [name: string]: VendorHandler | undefined;
}
/** Event handlers for `listen`, with the v3 payloads; the v4 names are accepted too. */
export interface ListenHandlers {
    onOpened?: (e?: unknown) => void;
    onConnected?: (e?: unknown) => void;
    onClosed?: (e?: unknown) => void;
    onDisconnected?: (e?: unknown) => void;
    onReconnecting?: (e: ReconnectingEvent) => void;
    onError?: (e: WebIMError) => void;
    onTextMessage?: (m: V3ReceivedMessage) => void;
    onCustomMessage?: (m: V3ReceivedMessage) => void;
    onReadMessage?: (m: V3ReadReceiptEvent) => void;
    onStatisticMessage?: (m: StatisticEvent) => void;
    onDeliveredMessage?: (m: V3DeliveryReceiptEvent) => void;
    onChannelMessage?: (m: V3ChannelAckEvent) => void;
    onGroupEvent?: (m: V3GroupEvent) => void;
    onGroupChange?: (m: V3GroupEvent) => void;
    /** (seen) Another device of this user marked a conversation read. */
    onConversationRead?: (m: ConversationReadEvent) => void;
    /** (seen) Someone reminded this user to read a group message. */
    onReminder?: (m: V3ReminderEvent) => void;
    [name: string]: VendorHandler | undefined;
}

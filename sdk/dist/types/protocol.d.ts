/**
 * Wire types: seen's protocol (docs/protocol.md), version 1. Only what the SDK reads and writes.
 */
import type { WireError } from './errors';
/** The protocol version this SDK speaks. */
export declare const protocolVersion = 1;
export type ChatType = 'singleChat' | 'groupChat';
/**
 * A message object as it appears in pushes, sync, history and the conversation list. In sync it
 * may also be a stored single-chat receipt to this user: type 'read' | 'delivery' | 'channel',
 * with `mid` the message acknowledged (read and delivery).
 */
export interface WireMessage {
    id: string;
    localId?: string;
    seq?: number;
    type: 'txt' | 'custom' | 'read' | 'delivery' | 'channel' | string;
    chatType: ChatType;
    from: string;
    to: string;
    msg?: string;
    customEvent?: string;
    customExts?: Record<string, unknown>;
    ext?: Record<string, unknown>;
    msgConfig?: {
        allowGroupAck?: boolean;
    };
    time: number;
    readCount?: number;
    /** History, single chat, messages I sent: the peer read it / it reached the peer (omitted when false). */
    isRead?: boolean;
    isDelivered?: boolean;
    mid?: string;
    /** A sync item of type 'remind' carries the reminder's fields (see ReminderPush). */
    groupId?: string;
    msgId?: string;
    at?: number;
}
export interface RequestFrame {
    id: string;
    op: string;
    data?: unknown;
}
export interface ReplyFrame {
    id: string;
    ok: boolean;
    data?: unknown;
    error?: WireError;
}
export interface PushFrame {
    push: string;
    data: unknown;
}
export interface AuthReply {
    user: string;
    device: string;
    serverTime: number;
    version: number;
    heartbeatMs?: number;
}
export interface SendReply {
    localId: string;
    id: string;
    time: number;
    seq: number;
}
export interface SyncReply {
    messages: WireMessage[];
    next: number;
    more: boolean;
}
export interface StatsEntry {
    mid: string;
    groupId: string;
    count: number;
    from: string;
    ackContent?: string;
    timestamp: number;
    /** The eligible readers when it was sent (omitted when 0); readByAll: count >= eligible (omitted when false). */
    eligible?: number;
    readByAll?: boolean;
}
export interface StatsReply {
    entries: StatsEntry[];
    next: number;
    more: boolean;
}
export interface AckResultItem {
    msgId: string;
    ok: boolean;
    counted?: boolean;
    count?: number;
    error?: WireError;
}
export interface ReceiptPush {
    mid: string;
    groupId: string;
    count: number;
    from: string;
    ackContent?: string;
    timestamp: number;
    /** As in StatsEntry. */
    eligible?: number;
    readByAll?: boolean;
}
/** The read and delivery pushes; `id` and `seq` are the stored receipt's (absent from older servers). */
export interface PeerReceiptPush {
    id?: string;
    seq?: number;
    mid: string;
    from: string;
    to: string;
    timestamp: number;
}
/** The channel push; `id` and `seq` as in PeerReceiptPush. */
export interface ChannelPush {
    id?: string;
    seq?: number;
    chatType: ChatType;
    from: string;
    to: string;
    timestamp: number;
}
export interface ConvReadPush {
    chatType: ChatType;
    to: string;
    seq: number;
}
export interface GroupPush {
    groupId: string;
    op: string;
    actor: string;
    users?: string[];
    groupName?: string;
    timestamp: number;
}
/**
 * The `receipt.reminder` push, and a sync item of type 'remind': `from` reminded this user of
 * group message `msgId`. `id` is the reminder's own id, `seq` its place in the user's stream.
 */
export interface ReminderPush {
    id: string;
    seq?: number;
    groupId: string;
    msgId: string;
    from: string;
    at: number;
}
/** The `receipt.remind` reply. */
export interface RemindReply {
    reminded: number;
    skipped?: string[];
    at: number;
    nextAt: number;
}
/** The `receipt.analytics` reply: times in ms since the message was sent, null while not reached. */
export interface AnalyticsReply {
    msgId: string;
    sentAt: number;
    eligible: number;
    count: number;
    unread: number;
    to50: number | null;
    to90: number | null;
    toAll: number | null;
    histogram?: {
        upTo: number | null;
        count: number;
    }[];
}
/** The `group.policy` / `group.setPolicy` reply, and `receiptPolicy` in a group. */
export interface WirePolicy {
    request: 'admins' | 'all';
    visibility: 'sender' | 'admins' | 'members';
    lists: boolean;
}
/** The `user.settings` / `user.setSettings` reply. */
export interface WireSettings {
    sendReadReceipts: boolean;
}
/** In a `receipt.unread` page's `reminders`, by username: how often and when last reminded. */
export interface WireReminded {
    reminded: number;
    remindedAt: number;
}
export interface WireGroup {
    groupId: string;
    name: string;
    description?: string;
    public?: boolean;
    owner: string;
    maxMembers?: number;
    memberCount?: number;
    createdAt?: number;
    ext?: Record<string, unknown>;
    receiptPolicy?: WirePolicy;
}
export interface WireMember {
    username: string;
    role: 'owner' | 'admin' | 'member';
    joinedAt?: number;
}
export interface WireConversation {
    chatType: ChatType;
    to: string;
    lastMessage?: WireMessage;
    unread: number;
}
/** Close codes (docs/protocol.md "Close codes"). */
export declare const closeCodes: {
    readonly normal: 1000;
    readonly goingAway: 1001;
    readonly protocolViolation: 4000;
    readonly authFailed: 4001;
    readonly tokenRevoked: 4002;
    readonly flooding: 4008;
    readonly slowConsumer: 4009;
};

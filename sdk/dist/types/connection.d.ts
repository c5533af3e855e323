import { AckItem } from './batch';
import { WebIMError } from './errors';
import { Message, MessageBody } from './message';
import { AckResultItem } from './protocol';
import { ReadTracker, ReadTrackerOptions } from './tracker';
/** The part of the WebSocket API the SDK uses; the browser's and the `ws` package's both fit. */
export interface SocketLike {
    readyState: number;
    onopen: ((ev: any) => void) | null;
    onclose: ((ev: any) => void) | null;
    onerror: ((ev: any) => void) | null;
    onmessage: ((ev: any) => void) | null;
    send(data: string): void;
    close(code?: number, reason?: string): void;
}
/** A WebSocket constructor. */
export type SocketCtor = new (url: string) => SocketLike;
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
/** Event handlers; both the v4 and the v3 names are accepted by both `listen` and `addEventHandler`. */
export interface Handlers {
    onOpened?: (e?: unknown) => void;
    onConnected?: (e?: unknown) => void;
    onClosed?: (e?: unknown) => void;
    onDisconnected?: (e?: unknown) => void;
    onReconnecting?: (e?: unknown) => void;
    onError?: (e: WebIMError) => void;
    onTextMessage?: (m: any) => void;
    onCustomMessage?: (m: any) => void;
    onReadMessage?: (m: any) => void;
    onStatisticMessage?: (m: any) => void;
    onDeliveredMessage?: (m: any) => void;
    onChannelMessage?: (m: any) => void;
    onGroupEvent?: (m: any) => void;
    onGroupChange?: (m: any) => void;
    /** (seen) Another device of this user marked a conversation read. */
    onConversationRead?: (m: any) => void;
    [name: string]: ((e?: any) => void) | undefined;
}
/** What `conn.send` resolves to. */
export interface SendResult {
    localMsgId: string;
    serverMsgId: string;
    message: MessageBody;
    /** (seen) For a group `read`: whether this ack was the reader's first, and the reader count after it. */
    counted?: boolean;
    count?: number;
    /** (seen) For `channel` in a group: how many receipts the conversation ack counted. */
    receiptsCounted?: number;
}
/** resolveUrls works out the WebSocket and REST endpoints from the options and the page. */
export declare function resolveUrls(opts: {
    url?: string;
    apiUrl?: string;
}, loc?: {
    protocol?: string;
    origin?: string;
    host?: string;
}): {
    wsUrl?: string;
    apiUrl?: string;
};
/** Connection is `WebIM.connection`. */
export declare class Connection {
    /** The options, as given. */
    readonly options: ConnectionOptions;
    /** The logged-in user, once `open` succeeded. */
    user: string;
    /** This device's id. */
    readonly deviceId: string;
    /** The access token, once `open` succeeded. */
    token: string;
    private readonly wsUrl?;
    private readonly apiUrl?;
    private state;
    private sessionOn;
    private socket?;
    private nextReqId;
    private pending;
    private queue;
    private listenHandlers;
    private eventHandlers;
    private heartbeatTimer?;
    private missedPongs;
    private heartbeatMs;
    private reconnectTimer?;
    private attempt;
    private seenIds;
    private syncAck;
    private syncRunning?;
    private syncAgain;
    private syncTimer?;
    private statsAck;
    private statsRunning?;
    private statsAgain;
    private statsTimer?;
    private readCounts;
    /** Messages this connection has acknowledged as read (so trackers never ack twice). */
    readonly acked: Set<string>;
    private readonly batcher;
    private readonly pages;
    private connectAttemptDone?;
    /** Bumped by close() and by every open(): an open() whose epoch has passed was interrupted. */
    private epoch;
    /** The latest open(), until close() or another open() interrupts it. */
    private opening?;
    constructor(options?: ConnectionOptions);
    /** getUniqueId returns a new local message id: a decimal numeric string, unique per connection. */
    getUniqueId(): string;
    /** listen sets the v3 handlers (replacing those of an earlier call); they get the v3 payload shapes. */
    listen(handlers: Handlers): void;
    /** addEventHandler adds (or replaces) v4 handlers under id; they get the v4 payload shapes. */
    addEventHandler(id: string, handlers: Handlers): void;
    /** removeEventHandler removes the handlers added under id. */
    removeEventHandler(id: string): void;
    private emit;
    private rest;
    /** registerUser creates an account: `{ username, password }`. */
    registerUser(opts: {
        username: string;
        password: string;
        nickname?: string;
        success?: Function;
        error?: Function;
    }): Promise<{
        type: 0;
        data: {
            username: string;
        };
    }>;
    /**
     * open logs in with `{ user, pwd }` (REST token, then the WebSocket) or `{ user, accessToken }`, and
     * resolves `{ accessToken, duration }` (duration: the token's lifetime in seconds, when known) once
     * the WebSocket is authenticated. `onOpened`/`onConnected` fire then; missed messages and receipt
     * statistics follow.
     */
    open(opts: {
        user: string;
        pwd?: string;
        accessToken?: string;
        success?: Function;
        error?: Function;
        [k: string]: unknown;
    }): Promise<{
        accessToken: string;
        duration?: number;
    }>;
    /**
     * interruptOpen marks an open() in progress as interrupted by the app: it still rejects with
     * REQUEST_ABORT for a caller that awaits it, but an app that did not (a v3 app that waits for
     * onOpened) gets no unhandled rejection for a close it asked for.
     */
    private interruptOpen;
    /** isOpened reports whether the WebSocket is authenticated now. */
    isOpened(): boolean;
    /**
     * close ends the session: the WebSocket is closed, nothing reconnects, pending requests fail with
     * REQUEST_ABORT. It is quiet in every state (never opened, logging in, connecting,
     * authenticating, open, waiting to reconnect, already closed): it never throws and fires no
     * onError; an open() it interrupts rejects with REQUEST_ABORT.
     */
    close(): void;
    /** (seen) logout revokes the access token on the server, then closes. */
    logout(): Promise<void>;
    private shutdown;
    private stopTimers;
    private failPending;
    /** connect opens a socket and authenticates; it settles when auth succeeds or the attempt fails. */
    private connect;
    /** dropSocket forgets a socket without waiting for its close handshake. */
    private dropSocket;
    private onDrop;
    private endSession;
    /**
     * reconnectNow skips the rest of the backoff wait and reconnects at once, when the connection is
     * waiting to reconnect. The SDK calls it itself when the browser goes back online.
     */
    reconnectNow(): void;
    private readonly onOnline;
    /** watchOnline follows the browser's `online` event while a session is on (no-op elsewhere). */
    private watchOnline;
    private scheduleReconnect;
    private reconnectAttempt;
    private startHeartbeat;
    private rawRequest;
    /** request sends op once the session is open; see queueWhileDisconnected. */
    request<T = any>(op: string, data: unknown): Promise<T>;
    private flushQueue;
    private onFrame;
    /** onPush turns a push into events. Exposed for tests through handleFrame. */
    private onPush;
    /** maxCount records a reader count for mid and returns the largest seen: counts never go backwards. */
    private maxCount;
    private onReceipt;
    /** firstSight reports whether a pushed receipt is new (true when it has no id), and remembers it. */
    private firstSight;
    /**
     * peerReceipt fires the event of a single-chat receipt, live (a push) or stored (from sync), in
     * the same shapes either way. Its id is the stored receipt's server id when known.
     */
    private peerReceipt;
    private deliver;
    private remember;
    private scheduleSync;
    private scheduleStats;
    /**
     * runSync pages through `sync` until the stream is confirmed: each request confirms the `next`
     * of the page before, and the loop ends when a confirmation brings nothing new.
     */
    private runSync;
    /**
     * runStats pages through `receipt.stats` like runSync. After a (re)connect (all = true) it fires
     * onStatisticMessage once with every entry; after live receipts it only confirms them, and
     * reports entries whose count is above what was seen live.
     */
    private runStats;
    /**
     * send sends a message body (v3 `m.body`, or a v4 message): txt and custom messages, and the
     * receipts `read` (group: batched `receipt.ack`; single chat: `receipt.read`), `delivery`, and
     * `channel` (conversation ack). It resolves `{ localMsgId, serverMsgId, message }` and calls the
     * body's `success(localId, serverMsgId)` / `fail(err)`.
     */
    send(msg: MessageBody | Message): Promise<SendResult>;
    private sendBody;
    /**
     * ackGroup acknowledges messages of one group as read, batched with other acks of this tick;
     * one promise per item. Acked ids are remembered so that nothing is acked twice.
     */
    ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[];
    /** readTracker acknowledges receipt-requesting group messages once the user has really seen them. */
    readTracker(opts?: ReadTrackerOptions): ReadTracker;
    /**
     * getHistoryMessages pages through a conversation: `{ targetId, chatType, cursor, pageSize,
     * searchDirection: 'up' (older, default) | 'down' (newer) }` -> `{ cursor, messages, isLast }`.
     */
    getHistoryMessages(opts: {
        targetId: string;
        chatType?: string;
        cursor?: string | number | null;
        pageSize?: number;
        searchDirection?: 'up' | 'down';
        [k: string]: unknown;
    }): Promise<{
        cursor: string;
        messages: any[];
        isLast: boolean;
    }>;
    private convPage;
    /**
     * getServerConversations lists conversations, newest first, with seen's unread counts:
     * `{ data: { conversations: [{ conversationId, conversationType, lastMessage, unReadCount }], cursor } }`.
     */
    getServerConversations(opts?: {
        pageSize?: number;
        cursor?: string;
        success?: Function;
        error?: Function;
    }): Promise<{
        type: 0;
        data: {
            conversations: any[];
            cursor: string;
        };
    }>;
    /**
     * getConversationlist is the older listing: every conversation (all pages), as
     * `{ data: { channel_infos: [{ channel_id, chatType, lastMessage, unread_num, meta }] } }`.
     */
    getConversationlist(opts?: {
        pageSize?: number;
        success?: Function;
        error?: Function;
    }): Promise<{
        type: 0;
        data: {
            channel_infos: any[];
        };
    }>;
    /**
     * getGroupMsgReadUser lists the readers of a group message: `{ msgId, groupId, pageSize?, cursor?,
     * order? }` -> `{ type: 0, data: { ackmid, total, userlist, users: [{ username, time, ackContent }],
     * is_last, next_key, timestamp } }`. (seen) `order`: 'asc' (default, oldest read first) or 'desc'
     * (newest first); pass `next_key` back as `cursor` with the same order for the next page.
     */
    getGroupMsgReadUser(opts: {
        msgId: string;
        groupId: string;
        pageSize?: number;
        cursor?: string;
        order?: 'asc' | 'desc';
        success?: Function;
        error?: Function;
    }): Promise<any>;
    /** (seen) getGroupMsgUnreadUser lists the members who have not read it: `{ type: 0, data: { total, userlist, is_last, next_key } }`. */
    getGroupMsgUnreadUser(opts: {
        msgId: string;
        groupId: string;
        pageSize?: number;
        cursor?: string;
        success?: Function;
        error?: Function;
    }): Promise<any>;
    /**
     * (seen) getGroupMsgReadCount returns reader counts: `{ groupId, msgIds, withUnread? }` ->
     * `{ type: 0, data: { [msgId]: count } }`; with `withUnread: true` also `unread: { [msgId]: n }`,
     * the members who may read each message and have not yet (so "read by count of count + n").
     * One request per 100 ids; each unread total costs the server a count over the group's members.
     */
    getGroupMsgReadCount(opts: {
        groupId: string;
        msgIds: string[];
        withUnread?: boolean;
        success?: Function;
        error?: Function;
    }): Promise<{
        type: 0;
        data: Record<string, number>;
        unread?: Record<string, number>;
    }>;
    private groupCall;
    /** createGroup (v3/v4): `{ data: { groupname, desc, members, public, maxusers, ... } }` -> `{ data: { groupid } }`. */
    createGroup(opts: {
        data: {
            groupname: string;
            desc?: string;
            members?: string[];
            public?: boolean;
            maxusers?: number;
            approval?: boolean;
            allowinvites?: boolean;
            inviteNeedConfirm?: boolean;
            ext?: unknown;
            [k: string]: unknown;
        };
        success?: Function;
        error?: Function;
    }): Promise<{
        type: 0;
        data: {
            groupid: string;
        };
    }>;
    /** createGroupVNext (v4): `{ groupName, description, members, isPublic, maxUsers, ... }` -> `{ data: { groupId } }`. */
    createGroupVNext(opts: {
        groupName: string;
        description?: string;
        members?: string[];
        isPublic?: boolean;
        maxUsers?: number;
        extension?: unknown;
        [k: string]: unknown;
    }): Promise<{
        type: 0;
        data: {
            groupId: string;
        };
    }>;
    private createRaw;
    /** inviteUsersToGroup adds members: `{ groupId, users }`. */
    inviteUsersToGroup(opts: {
        groupId: string;
        users: string[];
    }): Promise<any>;
    /** inviteToGroup is the v3 name of inviteUsersToGroup. */
    inviteToGroup(opts: {
        groupId: string;
        users: string[];
    }): Promise<any>;
    /** setAdmin makes a member an admin: `{ groupId, username }`. */
    setAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<any>;
    /** setGroupAdmin is the v3 name of setAdmin. */
    setGroupAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<any>;
    /** removeAdmin makes an admin a plain member again: `{ groupId, username }`. */
    removeAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<any>;
    /** removeGroupAdmin is the v3 name of removeAdmin. */
    removeGroupAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<any>;
    /** removeGroupMember removes a member: `{ groupId, username }`. */
    removeGroupMember(opts: {
        groupId: string;
        username: string;
    }): Promise<any>;
    /** changeGroupOwner hands the group to another member: `{ groupId, newOwner }`. */
    changeGroupOwner(opts: {
        groupId: string;
        newOwner: string;
    }): Promise<any>;
    /** leaveGroup: `{ groupId }`. */
    leaveGroup(opts: {
        groupId: string;
    }): Promise<any>;
    /** quitGroup is the v3 name of leaveGroup. */
    quitGroup(opts: {
        groupId: string;
    }): Promise<any>;
    /** destroyGroup (owner only): `{ groupId }`. */
    destroyGroup(opts: {
        groupId: string;
    }): Promise<any>;
    /** dissolveGroup is the v3 name of destroyGroup. */
    dissolveGroup(opts: {
        groupId: string;
    }): Promise<any>;
    /** getGroupInfo: `{ groupId }` (one id, an array, or comma-separated) -> `{ data: [group] }`. */
    getGroupInfo(opts: {
        groupId: string | string[];
    }): Promise<{
        type: 0;
        data: any[];
    }>;
    /**
     * getGroupMembers pages the members: `{ groupId, cursor?, limit? | pageSize? }` ->
     * `{ data: { members: [{ owner|member: username, username, role, joinedAt }], cursor } }`.
     */
    getGroupMembers(opts: {
        groupId: string;
        cursor?: string;
        limit?: number;
        pageSize?: number;
    }): Promise<{
        type: 0;
        data: {
            members: any[];
            cursor: string;
        };
    }>;
    /** listGroupMembers is the v3 listing, by page number (from 1): `{ groupId, pageNum, pageSize }` -> `{ data: [{ owner|member: username }] }`. */
    listGroupMembers(opts: {
        groupId: string;
        pageNum?: number;
        pageSize?: number;
    }): Promise<{
        type: 0;
        data: any[];
    }>;
    private membersPage;
    /** getGroupAdmin lists the admins' usernames: `{ groupId }` -> `{ data: [username] }`. */
    getGroupAdmin(opts: {
        groupId: string;
    }): Promise<{
        type: 0;
        data: string[];
    }>;
    /** getJoinedGroups lists this user's groups by page number (from 0, as the vendor's): `{ pageNum, pageSize }` -> `{ data: [{ groupid, groupname, ... }] }`. */
    getJoinedGroups(opts?: {
        pageNum?: number;
        pageSize?: number;
        [k: string]: unknown;
    }): Promise<{
        type: 0;
        data: any[];
    }>;
    /** getGroup is the v3 name of getJoinedGroups. */
    getGroup(opts?: {
        pageNum?: number;
        pageSize?: number;
    }): Promise<{
        type: 0;
        data: any[];
    }>;
    /** handleFrame feeds a raw frame as if it came from the socket (for tests and tooling). */
    handleFrame(raw: string): void;
}

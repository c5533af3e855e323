/**
 * The WebIM facade: `new WebIM.connection(options)`, with the vendor's method and event names.
 *
 * It composes the parts, each in its own file: the {@link Transport} (one authenticated
 * WebSocket, reconnects, heartbeat, request matching), the {@link Inbox} (pushes and the two
 * streams, followed by one {@link StreamFollower} each, become events), the {@link Emitter}
 * (`listen` / `addEventHandler`), REST (log in, register, log out), the {@link Sender} (messages
 * and receipts, group reads batched), and the method groups (history, receipts, groups). Here: the
 * session (open, close) and one line per method.
 */
import type { AckItem } from './batch';
import type * as G from './groups';
import { ConversationListOptions, ConversationsOptions, HistoryOptions } from './history';
import type { Message, MessageBody } from './message';
import type { AckResultItem } from './protocol';
import { ReceiptPolicyOptions, SetReceiptPolicyOptions, SetUserSettingsOptions } from './policy';
import { ReadAnalyticsOptions, ReadCountOptions, ReadUsersOptions, RemindOptions, UnreadUsersOptions } from './receipts';
import type * as R from './results';
import { ReadTracker, ReadTrackerOptions } from './tracker';
import type { ConnectionOptions, Handlers, ListenHandlers } from './types';
export { resolveUrls } from './urls';
export type { SocketCtor, SocketLike } from './transport';
export type { ConnectionOptions, Handlers, ListenHandlers } from './types';
export type { OpenOptions, RegisterOptions, SendResult } from './results';
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
    /** Messages this connection has acknowledged as read (so trackers never ack twice). */
    readonly acked: Set<string>;
    private readonly restConfig;
    private readonly events;
    private readonly transport;
    private readonly inbox;
    private readonly groups;
    private readonly history;
    private readonly receipts;
    private readonly policies;
    private readonly sender;
    private readonly req;
    /** Bumped by close() and by every open(): an open() whose epoch has passed was interrupted. */
    private epoch;
    /** The latest open(), until close() or another open() interrupts it. */
    private opening?;
    constructor(options?: ConnectionOptions);
    /** getUniqueId returns a new local message id: a decimal numeric string, unique per connection. */
    getUniqueId(): string;
    /** listen sets the v3 handlers (replacing those of an earlier call); they get the v3 payload shapes. */
    listen(handlers: ListenHandlers): void;
    /** addEventHandler adds (or replaces) v4 handlers under id; they get the v4 payload shapes. */
    addEventHandler(id: string, handlers: Handlers): void;
    /** removeEventHandler removes the handlers added under id. */
    removeEventHandler(id: string): void;
    /** registerUser creates an account: `{ username, password }`. */
    registerUser(opts: R.RegisterOptions): Promise<R.ApiResult<{
        username: string;
    }>>;
    /**
     * open logs in with `{ user, pwd }` (REST token, then the WebSocket) or `{ user, accessToken }`, and
     * resolves `{ accessToken, duration }` (duration: the token's lifetime in seconds, when known) once
     * the WebSocket is authenticated. `onOpened`/`onConnected` fire then; missed messages and receipt
     * statistics follow.
     */
    open(opts: R.OpenOptions): Promise<R.OpenResult>;
    /** authed runs on every (re)authentication, before queued requests go out and the streams catch up. */
    private authed;
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
    /**
     * reconnectNow skips the rest of the backoff wait and reconnects at once, when the connection is
     * waiting to reconnect. The SDK calls it itself when the browser goes back online.
     */
    reconnectNow(): void;
    /** request sends op once the session is open (see queueWhileDisconnected) and resolves its reply data. */
    request<T = unknown>(op: string, data: unknown): Promise<T>;
    /** handleFrame feeds a raw frame as if it came from the socket (for tests and tooling). */
    handleFrame(raw: string): void;
    /**
     * send sends a message body (v3 `m.body`, or a v4 message): txt and custom messages, and the
     * receipts `read` (group: batched `receipt.ack`; single chat: `receipt.read`), `delivery`, and
     * `channel` (conversation ack). It resolves `{ localMsgId, serverMsgId, message }` and calls the
     * body's `success(localId, serverMsgId)` / `fail(err)`.
     */
    send(msg: MessageBody | Message): Promise<R.SendResult>;
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
    getHistoryMessages(opts: HistoryOptions): Promise<R.HistoryResult>;
    /**
     * getServerConversations lists conversations, newest first, with seen's unread counts:
     * `{ data: { conversations: [{ conversationId, conversationType, lastMessage, unReadCount }], cursor } }`.
     */
    getServerConversations(opts?: ConversationsOptions): Promise<R.ApiResult<{
        conversations: R.ServerConversation[];
        cursor: string;
    }>>;
    /**
     * getConversationlist is the older listing: every conversation (all pages), as
     * `{ data: { channel_infos: [{ channel_id, chatType, lastMessage, unread_num, meta }] } }`.
     */
    getConversationlist(opts?: ConversationListOptions): Promise<R.ApiResult<{
        channel_infos: R.ChannelInfo[];
    }>>;
    /**
     * getGroupMsgReadUser lists the readers of a group message: `{ msgId, groupId, pageSize?, cursor?,
     * order? }` -> `{ type: 0, data: { ackmid, total, userlist, users: [{ username, time, ackContent }],
     * is_last, next_key, timestamp } }`. (seen) `order`: 'asc' (default, oldest read first) or 'desc'
     * (newest first); pass `next_key` back as `cursor` with the same order for the next page.
     */
    getGroupMsgReadUser(opts: ReadUsersOptions): Promise<R.ApiResult<R.ReadUsers>>;
    /**
     * (seen) getGroupMsgUnreadUser lists the members who have not read it: `{ type: 0, data: { total,
     * userlist, users: [{ username, reminded, remindedAt }], is_last, next_key } }` (reminded: how often
     * the member was reminded of it, remindedAt: when last, ms, 0 never).
     */
    getGroupMsgUnreadUser(opts: UnreadUsersOptions): Promise<R.ApiResult<R.UnreadUsers>>;
    /**
     * (seen) getGroupMsgReadCount returns reader counts: `{ groupId, msgIds, withUnread? }` ->
     * `{ type: 0, data: { [msgId]: count } }`; with `withUnread: true` also `unread: { [msgId]: n }`,
     * the members who may read each message and have not yet (so "read by count of count + n").
     * One request per 100 ids; each unread total costs the server a count over the group's members.
     */
    getGroupMsgReadCount(opts: ReadCountOptions): Promise<R.ReadCountResult>;
    /**
     * (seen) remindUnreadMembers reminds the members who have not read a group message: `{ groupId,
     * msgId, users? }` (users: only these; default every eligible member who has not read it) ->
     * `{ type: 0, data: { reminded, skipped, at, nextAt } }`. The sender, the owner and admins may;
     * once per message per the server's interval (LIMIT_EXCEEDED names it; nextAt says when again).
     * Each reminded member gets `onReminder` on every device, live or after login.
     */
    remindUnreadMembers(opts: RemindOptions): Promise<R.ApiResult<R.RemindResult>>;
    /**
     * (seen) getGroupMsgReadAnalytics: how fast a message was read: `{ groupId, msgId }` ->
     * `{ type: 0, data: { msgId, sentAt, eligible, count, unread, to50, to90, toAll, histogram:
     * [{ upTo, count }] } }` (times in ms after sending; null: not reached yet / the last bucket).
     */
    getGroupMsgReadAnalytics(opts: ReadAnalyticsOptions): Promise<R.ApiResult<R.ReadAnalytics>>;
    /** (seen) getGroupReceiptPolicy: `{ groupId }` -> `{ type: 0, data: { request, visibility, lists } }`, to any member. */
    getGroupReceiptPolicy(opts: ReceiptPolicyOptions): Promise<R.ApiResult<R.ReceiptPolicy>>;
    /**
     * (seen) setGroupReceiptPolicy changes the fields given: `{ groupId, request?: 'admins' | 'all',
     * visibility?: 'sender' | 'admins' | 'members', lists?: boolean }` -> the policy now. Owner and admins.
     */
    setGroupReceiptPolicy(opts: SetReceiptPolicyOptions): Promise<R.ApiResult<R.ReceiptPolicy>>;
    /** (seen) getUserSettings: the user's own settings, `{ type: 0, data: { sendReadReceipts } }`. */
    getUserSettings(opts?: R.Callbacks<R.ApiResult<R.UserSettings>>): Promise<R.ApiResult<R.UserSettings>>;
    /** (seen) setUserSettings: `{ sendReadReceipts: false }` stops reporting this user's reads (docs/receipts.md "Privacy"). */
    setUserSettings(opts: SetUserSettingsOptions): Promise<R.ApiResult<R.UserSettings>>;
    /** createGroup (v3/v4): `{ data: { groupname, desc, members, public, maxusers, ... } }` -> `{ data: { groupid } }`. */
    createGroup(opts: G.CreateGroupOptions): Promise<R.ApiResult<{
        groupid: string;
    }>>;
    /** createGroupVNext (v4): `{ groupName, description, members, isPublic, maxUsers, ... }` -> `{ data: { groupId } }`. */
    createGroupVNext(opts: G.CreateGroupVNextOptions): Promise<R.ApiResult<{
        groupId: string;
    }>>;
    /** inviteUsersToGroup adds members: `{ groupId, users }` -> `{ data: [{ result, user, groupid }] }` (only those added). */
    inviteUsersToGroup(opts: G.InviteOptions): Promise<R.ApiResult<R.MemberAdded[]>>;
    /** inviteToGroup is the v3 name of inviteUsersToGroup. */
    inviteToGroup(opts: G.InviteOptions): Promise<R.ApiResult<R.MemberAdded[]>>;
    /** setAdmin makes a member an admin: `{ groupId, username }`. */
    setAdmin(opts: G.GroupUserOptions<R.SetAdminResult>): Promise<R.SetAdminResult>;
    /** setGroupAdmin is the v3 name of setAdmin. */
    setGroupAdmin(opts: G.GroupUserOptions<R.SetAdminResult>): Promise<R.SetAdminResult>;
    /** removeAdmin makes an admin a plain member again: `{ groupId, username }`. */
    removeAdmin(opts: G.GroupUserOptions<R.RemoveAdminResult>): Promise<R.RemoveAdminResult>;
    /** removeGroupAdmin is the v3 name of removeAdmin. */
    removeGroupAdmin(opts: G.GroupUserOptions<R.RemoveAdminResult>): Promise<R.RemoveAdminResult>;
    /** removeGroupMember removes a member: `{ groupId, username }`. */
    removeGroupMember(opts: G.GroupUserOptions<R.ApiResult<R.MemberRemoved>>): Promise<R.ApiResult<R.MemberRemoved>>;
    /** changeGroupOwner hands the group to another member: `{ groupId, newOwner }`. */
    changeGroupOwner(opts: G.ChangeOwnerOptions): Promise<R.ChangeOwnerResult>;
    /** leaveGroup: `{ groupId }`. */
    leaveGroup(opts: G.GroupOptions<R.ApiResult<R.GroupLeft>>): Promise<R.ApiResult<R.GroupLeft>>;
    /** quitGroup is the v3 name of leaveGroup. */
    quitGroup(opts: G.GroupOptions<R.ApiResult<R.GroupLeft>>): Promise<R.ApiResult<R.GroupLeft>>;
    /** destroyGroup (owner only): `{ groupId }`. */
    destroyGroup(opts: G.GroupOptions<R.DestroyGroupResult>): Promise<R.DestroyGroupResult>;
    /** dissolveGroup is the v3 name of destroyGroup. */
    dissolveGroup(opts: G.GroupOptions<R.DestroyGroupResult>): Promise<R.DestroyGroupResult>;
    /** getGroupInfo: `{ groupId }` (one id, an array, or comma-separated) -> `{ data: [group] }`. */
    getGroupInfo(opts: G.GroupInfoOptions): Promise<R.ApiResult<R.GroupInfo[]>>;
    /**
     * getGroupMembers pages the members: `{ groupId, cursor?, limit? | pageSize? }` ->
     * `{ data: { members: [{ owner|member: username, username, role, joinedAt }], cursor } }`.
     */
    getGroupMembers(opts: G.GroupMembersOptions): Promise<R.ApiResult<{
        members: R.GroupMember[];
        cursor: string;
    }>>;
    /** listGroupMembers is the v3 listing, by page number (from 1): `{ groupId, pageNum, pageSize }` -> `{ data: [{ owner|member: username }] }`. */
    listGroupMembers(opts: G.ListGroupMembersOptions): Promise<R.ApiResult<R.GroupMember[]>>;
    /** getGroupAdmin lists the admins' usernames: `{ groupId }` -> `{ data: [username] }`. */
    getGroupAdmin(opts: G.GroupOptions<R.ApiResult<string[]>>): Promise<R.ApiResult<string[]>>;
    /** getJoinedGroups lists this user's groups by page number (from 0, as the vendor's): `{ pageNum, pageSize }` -> `{ data: [{ groupid, groupname, ... }] }`. */
    getJoinedGroups(opts?: G.JoinedGroupsOptions): Promise<R.ApiResult<R.JoinedGroup[]>>;
    /** getGroup is the v3 name of getJoinedGroups. */
    getGroup(opts?: G.JoinedGroupsOptions): Promise<R.ApiResult<R.JoinedGroup[]>>;
}

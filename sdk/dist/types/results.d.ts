/**
 * The public types of the WebIM methods: the result of every method, and the options of those
 * whose options are not a group method's (groups.ts), history's (history.ts) or receipts'
 * (receipts.ts). Types only. index.ts exports all of them.
 */
import type { WebIMError } from './errors';
import type { MessageBody } from './message';
import type { ChatType } from './protocol';
import type { ReceivedMessage } from './types';
/** The v3 callbacks every method takes beside its promise. */
export interface Callbacks<T> {
    success?: (result: T) => void;
    error?: (err: WebIMError) => void;
}
/** The vendor's result envelope: `{ type: 0, data }`. */
export interface ApiResult<T> {
    type: 0;
    data: T;
}
/** Options of `open`: a password (logs in over REST first) or an access token. */
export interface OpenOptions extends Callbacks<OpenResult> {
    user: string;
    pwd?: string;
    accessToken?: string;
    [k: string]: unknown;
}
/** Options of `registerUser`. */
export interface RegisterOptions extends Callbacks<ApiResult<{
    username: string;
}>> {
    username: string;
    password: string;
    nickname?: string;
}
/** What `open` resolves to; `duration` is the token's lifetime in seconds, when known. */
export interface OpenResult {
    accessToken: string;
    duration?: number;
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
/** What `getHistoryMessages` resolves to. */
export interface HistoryResult {
    cursor: string;
    messages: ReceivedMessage[];
    isLast: boolean;
}
/** One conversation of `getServerConversations`. */
export interface ServerConversation {
    conversationId: string;
    conversationType: ChatType;
    lastMessage?: ReceivedMessage;
    unReadCount: number;
}
/** One conversation of `getConversationlist`. */
export interface ChannelInfo {
    channel_id: string;
    chatType: ChatType;
    lastMessage?: ReceivedMessage;
    unread_num: number;
    meta: Record<string, unknown>;
}
/** One reader in `getGroupMsgReadUser`'s `data.users` (seen). */
export interface ReaderInfo {
    username: string;
    /** When they read it, ms. */
    time: number;
    ackContent: string;
}
/** `getGroupMsgReadUser`'s data. */
export interface ReadUsers {
    ackmid: string;
    total: number;
    userlist: string[];
    users: ReaderInfo[];
    is_last: boolean;
    next_key: string;
    timestamp: number;
}
/** One member in `getGroupMsgUnreadUser`'s `data.users` (seen): how often and when last reminded. */
export interface UnreadUser {
    username: string;
    /** How many times the member was reminded of the message (0: never). */
    reminded: number;
    /** When last, ms (0: never). */
    remindedAt: number;
}
/** `getGroupMsgUnreadUser`'s data (seen). */
export interface UnreadUsers {
    total: number;
    userlist: string[];
    users: UnreadUser[];
    is_last: boolean;
    next_key: string;
}
/**
 * `remindUnreadMembers`'s data (seen): how many members were reminded, the named members who were
 * not (they read it meanwhile, or may not read it), when, and the earliest time the message may
 * be reminded again (ms).
 */
export interface RemindResult {
    reminded: number;
    skipped: string[];
    at: number;
    nextAt: number;
}
/** One bar of a message's read-time distribution: reads up to `upTo` ms after sending (null: the rest). */
export interface ReadBucket {
    upTo: number | null;
    count: number;
}
/**
 * `getGroupMsgReadAnalytics`'s data (seen): how fast a receipt-requesting message was read.
 * `eligible` is the members who could read it when it was sent (the base of the percentages);
 * `to50`, `to90` and `toAll` the ms from sending until 50%, 90% and all of them had read it, null
 * while not reached; `histogram` how many reads came in each interval after sending.
 */
export interface ReadAnalytics {
    msgId: string;
    sentAt: number;
    eligible: number;
    count: number;
    unread: number;
    to50: number | null;
    to90: number | null;
    toAll: number | null;
    histogram: ReadBucket[];
}
/** Who may ask for read receipts in a group: the owner and admins, or every member. */
export type ReceiptRequest = 'admins' | 'all';
/** Who may see a message's receipts: its sender; the sender, owner and admins; or every member. */
export type ReceiptVisibility = 'sender' | 'admins' | 'members';
/** A group's receipt policy (seen); `lists: false` shows counts only, not who read. */
export interface ReceiptPolicy {
    request: ReceiptRequest;
    visibility: ReceiptVisibility;
    lists: boolean;
}
/** The user's own settings (seen): `sendReadReceipts: false` means their reads are not reported. */
export interface UserSettings {
    sendReadReceipts: boolean;
}
/**
 * `getGroupMsgReadCount`'s result (seen): counts by message id; with `withUnread`, `unread` too;
 * `eligible`: the eligible readers of each when it was sent (read by all: count >= eligible > 0).
 */
export interface ReadCountResult extends ApiResult<Record<string, number>> {
    unread?: Record<string, number>;
    eligible?: Record<string, number>;
}
/** A group in `getGroupInfo`. `custom` is `ext` as JSON text ('' without ext). */
export interface GroupInfo {
    id: string;
    groupid: string;
    name: string;
    description: string;
    public: boolean;
    owner: string;
    created: number;
    maxusers: number;
    affiliations_count: number;
    custom: string;
    ext: Record<string, unknown>;
    /** (seen) The group's receipt policy, when the server sends it. */
    receiptPolicy?: ReceiptPolicy;
}
/** A group in `getJoinedGroups`. */
export interface JoinedGroup {
    groupid: string;
    groupname: string;
    description: string;
    public: boolean;
    owner: string;
    affiliations_count: number;
    maxusers: number;
    created: number;
    /** (seen) The group's receipt policy, when the server sends it. */
    receiptPolicy?: ReceiptPolicy;
}
/** A member in `getGroupMembers` / `listGroupMembers`: `owner` or `member` holds the username, as the vendor's. */
export interface GroupMember {
    owner?: string;
    member?: string;
    username: string;
    role: 'owner' | 'admin' | 'member';
    joinedAt: number;
}
/** One member added by `inviteUsersToGroup`. */
export interface MemberAdded {
    result: true;
    action: 'add_member';
    user: string;
    groupid: string;
}
/** `removeGroupMember`'s data. */
export interface MemberRemoved {
    result: true;
    action: 'remove_member';
    user: string;
    groupid: string;
}
/** `leaveGroup`'s data. */
export interface GroupLeft {
    result: true;
    action: 'quit';
    groupid: string;
    user: string;
}
/** `setAdmin`'s result. */
export type SetAdminResult = ApiResult<{
    result: 'success';
    newadmin: string;
}>;
/** `removeAdmin`'s result. */
export type RemoveAdminResult = ApiResult<{
    result: 'success';
    oldadmin: string;
}>;
/** `changeGroupOwner`'s result. */
export type ChangeOwnerResult = ApiResult<{
    newowner: string;
}>;
/** `destroyGroup`'s result. */
export type DestroyGroupResult = ApiResult<{
    success: true;
    groupid: string;
}>;

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
export interface RegisterOptions extends Callbacks<ApiResult<{ username: string }>> {
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

/** `getGroupMsgUnreadUser`'s data (seen). */
export interface UnreadUsers {
  total: number;
  userlist: string[];
  is_last: boolean;
  next_key: string;
}

/** `getGroupMsgReadCount`'s result (seen): counts by message id; with `withUnread`, `unread` too. */
export interface ReadCountResult extends ApiResult<Record<string, number>> {
  unread?: Record<string, number>;
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
export type SetAdminResult = ApiResult<{ result: 'success'; newadmin: string }>;

/** `removeAdmin`'s result. */
export type RemoveAdminResult = ApiResult<{ result: 'success'; oldadmin: string }>;

/** `changeGroupOwner`'s result. */
export type ChangeOwnerResult = ApiResult<{ newowner: string }>;

/** `destroyGroup`'s result. */
export type DestroyGroupResult = ApiResult<{ success: true; groupid: string }>;

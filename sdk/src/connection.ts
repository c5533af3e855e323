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
import { noop, withCallbacks } from './callbacks';
import { clientCodes, clientError, WebIMError } from './errors';
import { Emitter } from './events';
import type { Requester } from './follower';
import type * as G from './groups';
import { Groups } from './groups';
import { ConversationListOptions, ConversationsOptions, History, HistoryOptions } from './history';
import { deviceId as defaultDeviceId, uniqueId } from './ids';
import { Inbox } from './inbox';
import type { Message, MessageBody } from './message';
import type { AckResultItem, AuthReply } from './protocol';
import { Policies, ReceiptPolicyOptions, SetReceiptPolicyOptions, SetUserSettingsOptions } from './policy';
import { ReadAnalyticsOptions, ReadCountOptions, Receipts, ReadUsersOptions, RemindOptions, UnreadUsersOptions } from './receipts';
import { login, register, RestConfig, revoke } from './rest';
import type * as R from './results';
import { Sender } from './send';
import { ReadTracker, ReadTrackerOptions } from './tracker';
import { Transport } from './transport';
import type { ConnectionOptions, Handlers, ListenHandlers } from './types';
import { resolveUrls } from './urls';

export { resolveUrls } from './urls';
export type { SocketCtor, SocketLike } from './transport';
export type { ConnectionOptions, Handlers, ListenHandlers } from './types';
export type { OpenOptions, RegisterOptions, SendResult } from './results';

/** Connection is `WebIM.connection`. */
export class Connection {
  /** The options, as given. */
  readonly options: ConnectionOptions;
  /** The logged-in user, once `open` succeeded. */
  user = '';
  /** This device's id. */
  readonly deviceId: string;
  /** The access token, once `open` succeeded. */
  token = '';
  /** Messages this connection has acknowledged as read (so trackers never ack twice). */
  readonly acked = new Set<string>();

  private readonly restConfig: RestConfig;
  private readonly events = new Emitter();
  private readonly transport: Transport;
  private readonly inbox: Inbox;
  private readonly groups: Groups;
  private readonly history: History;
  private readonly receipts: Receipts;
  private readonly policies: Policies;
  private readonly sender: Sender;
  // Through request, as before the split: an app (or a test) that wraps conn.request sees every
  // request the SDK sends, the streams and receipts included.
  private readonly req: Requester = (op, data) => this.request(op, data);
  /** Bumped by close() and by every open(): an open() whose epoch has passed was interrupted. */
  private epoch = 0;
  /** The latest open(), until close() or another open() interrupts it. */
  private opening?: Promise<unknown>;

  constructor(options: ConnectionOptions = {}) {
    this.options = { ...options };
    const { wsUrl, apiUrl } = resolveUrls(this.options);
    const conn = this;
    this.restConfig = {
      apiUrl,
      get fetch() {
        return conn.options.fetch;
      },
    };
    this.deviceId = typeof options.deviceId === 'string' && options.deviceId ? options.deviceId : defaultDeviceId();
    this.transport = new Transport(this.options, wsUrl, this.deviceId, {
      authed: (r) => this.authed(r),
      ready: () => this.inbox.catchUp(),
      reconnecting: (attempt, delay) => this.events.emit('onReconnecting', { attempt, delay }, { attempt, delay }),
      ended: (notify) => {
        this.inbox.stop();
        if (notify) this.events.emit('disconnected', undefined, undefined);
      },
      error: (err) => this.events.error(err),
      push: (f) => this.inbox.push(f),
    });
    this.inbox = new Inbox({
      user: () => this.user,
      delivery: () => !!this.options.delivery,
      debounceMs: () => this.options.syncDebounceMs ?? 1000,
      request: this.req,
      emit: this.events,
    });
    this.groups = new Groups(this.req, () => this.user);
    this.history = new History(this.req, this.inbox.counts, () => this.user);
    this.receipts = new Receipts(this.req, this.inbox.counts);
    this.policies = new Policies(this.req);
    this.sender = new Sender({
      user: () => this.user,
      acked: this.acked,
      request: this.req,
      sent: (id) => {
        this.inbox.remember(id);
        this.inbox.sync.schedule();
      },
    });
  }

  // ---- ids and handlers ----

  /** getUniqueId returns a new local message id: a decimal numeric string, unique per connection. */
  getUniqueId(): string {
    return uniqueId();
  }

  /** listen sets the v3 handlers (replacing those of an earlier call); they get the v3 payload shapes. */
  listen(handlers: ListenHandlers): void {
    this.events.listen(handlers);
  }

  /** addEventHandler adds (or replaces) v4 handlers under id; they get the v4 payload shapes. */
  addEventHandler(id: string, handlers: Handlers): void {
    this.events.add(id, handlers);
  }

  /** removeEventHandler removes the handlers added under id. */
  removeEventHandler(id: string): void {
    this.events.remove(id);
  }

  // ---- the session ----

  /** registerUser creates an account: `{ username, password }`. */
  registerUser(opts: R.RegisterOptions): Promise<R.ApiResult<{ username: string }>> {
    const p = (async () => {
      if (!opts?.username || !opts.password) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'registerUser needs username and password');
      const username = await register(this.restConfig, opts.username, opts.password);
      return { type: 0 as const, data: { username: username ?? opts.username } };
    })();
    return withCallbacks(opts, p);
  }

  /**
   * open logs in with `{ user, pwd }` (REST token, then the WebSocket) or `{ user, accessToken }`, and
   * resolves `{ accessToken, duration }` (duration: the token's lifetime in seconds, when known) once
   * the WebSocket is authenticated. `onOpened`/`onConnected` fire then; missed messages and receipt
   * statistics follow.
   */
  open(opts: R.OpenOptions): Promise<R.OpenResult> {
    const p = (async () => {
      if (!opts?.user) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'open needs user');
      if (!opts.pwd && !opts.accessToken) throw clientError(clientCodes.WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR, 'open needs pwd or accessToken');
      this.interruptOpen();
      if (this.transport.state !== 'closed') this.transport.shutdown(clientError(clientCodes.REQUEST_ABORT, 'a new open() replaced this session'), false);
      const epoch = ++this.epoch;
      const aborted = () => clientError(clientCodes.REQUEST_ABORT, 'open() was interrupted: close() or another open() was called before it completed');
      let token = opts.accessToken ?? '';
      let duration: number | undefined;
      if (opts.pwd) {
        const r = await login(this.restConfig, opts.user, opts.pwd);
        // close() (or another open()) while logging in: do not go on to connect.
        if (epoch !== this.epoch) throw aborted();
        token = r.access_token;
        duration = r.expires_in;
      }
      this.user = String(opts.user).toLowerCase();
      this.token = token;
      this.transport.begin(token);
      try {
        await this.transport.connect();
      } catch (err) {
        // Interrupted by close() or another open(): that call has already cleaned up; no onError.
        if (epoch !== this.epoch) throw aborted();
        this.transport.abandon();
        this.events.error(err as WebIMError);
        throw err;
      }
      const out: R.OpenResult = { accessToken: token };
      if (duration !== undefined) out.duration = duration;
      return out;
    })();
    this.opening = p;
    return withCallbacks(opts, p);
  }

  /** authed runs on every (re)authentication, before queued requests go out and the streams catch up. */
  private authed(r: AuthReply): void {
    if (r?.user) this.user = r.user;
    this.events.emit('connected', undefined, undefined);
  }

  /**
   * interruptOpen marks an open() in progress as interrupted by the app: it still rejects with
   * REQUEST_ABORT for a caller that awaits it, but an app that did not (a v3 app that waits for
   * onOpened) gets no unhandled rejection for a close it asked for.
   */
  private interruptOpen(): void {
    this.epoch++;
    this.opening?.catch(noop);
    this.opening = undefined;
  }

  /** isOpened reports whether the WebSocket is authenticated now. */
  isOpened(): boolean {
    return this.transport.state === 'open';
  }

  /**
   * close ends the session: the WebSocket is closed, nothing reconnects, pending requests fail with
   * REQUEST_ABORT. It is quiet in every state (never opened, logging in, connecting,
   * authenticating, open, waiting to reconnect, already closed): it never throws and fires no
   * onError; an open() it interrupts rejects with REQUEST_ABORT.
   */
  close(): void {
    this.interruptOpen();
    if (!this.transport.sessionOn && this.transport.state === 'closed') return;
    this.transport.shutdown(clientError(clientCodes.REQUEST_ABORT, 'the connection was closed'), true);
  }

  /** (seen) logout revokes the access token on the server, then closes. */
  async logout(): Promise<void> {
    const token = this.token;
    this.close();
    if (token) await revoke(this.restConfig, token).catch(noop);
  }

  /**
   * reconnectNow skips the rest of the backoff wait and reconnects at once, when the connection is
   * waiting to reconnect. The SDK calls it itself when the browser goes back online.
   */
  reconnectNow(): void {
    this.transport.reconnectNow();
  }

  /** request sends op once the session is open (see queueWhileDisconnected) and resolves its reply data. */
  request<T = unknown>(op: string, data: unknown): Promise<T> {
    return this.transport.request<T>(op, data);
  }

  /** handleFrame feeds a raw frame as if it came from the socket (for tests and tooling). */
  handleFrame(raw: string): void {
    this.transport.handleFrame(raw);
  }

  // ---- sending and reading ----

  /**
   * send sends a message body (v3 `m.body`, or a v4 message): txt and custom messages, and the
   * receipts `read` (group: batched `receipt.ack`; single chat: `receipt.read`), `delivery`, and
   * `channel` (conversation ack). It resolves `{ localMsgId, serverMsgId, message }` and calls the
   * body's `success(localId, serverMsgId)` / `fail(err)`.
   */
  send(msg: MessageBody | Message): Promise<R.SendResult> {
    return this.sender.send(msg);
  }

  /**
   * ackGroup acknowledges messages of one group as read, batched with other acks of this tick;
   * one promise per item. Acked ids are remembered so that nothing is acked twice.
   */
  ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[] {
    return this.sender.ackGroup(groupId, items);
  }

  /** readTracker acknowledges receipt-requesting group messages once the user has really seen them. */
  readTracker(opts: ReadTrackerOptions = {}): ReadTracker {
    return new ReadTracker(this, opts);
  }

  // ---- history and conversations ----

  /**
   * getHistoryMessages pages through a conversation: `{ targetId, chatType, cursor, pageSize,
   * searchDirection: 'up' (older, default) | 'down' (newer) }` -> `{ cursor, messages, isLast }`.
   */
  getHistoryMessages(opts: HistoryOptions): Promise<R.HistoryResult> {
    return withCallbacks(opts, this.history.messages(opts));
  }

  /**
   * getServerConversations lists conversations, newest first, with seen's unread counts:
   * `{ data: { conversations: [{ conversationId, conversationType, lastMessage, unReadCount }], cursor } }`.
   */
  getServerConversations(opts: ConversationsOptions = {}): Promise<R.ApiResult<{ conversations: R.ServerConversation[]; cursor: string }>> {
    return withCallbacks(opts, this.history.serverConversations(opts));
  }

  /**
   * getConversationlist is the older listing: every conversation (all pages), as
   * `{ data: { channel_infos: [{ channel_id, chatType, lastMessage, unread_num, meta }] } }`.
   */
  getConversationlist(opts: ConversationListOptions = {}): Promise<R.ApiResult<{ channel_infos: R.ChannelInfo[] }>> {
    return withCallbacks(opts, this.history.conversationList(opts));
  }

  // ---- read receipts ----

  /**
   * getGroupMsgReadUser lists the readers of a group message: `{ msgId, groupId, pageSize?, cursor?,
   * order? }` -> `{ type: 0, data: { ackmid, total, userlist, users: [{ username, time, ackContent }],
   * is_last, next_key, timestamp } }`. (seen) `order`: 'asc' (default, oldest read first) or 'desc'
   * (newest first); pass `next_key` back as `cursor` with the same order for the next page.
   */
  getGroupMsgReadUser(opts: ReadUsersOptions): Promise<R.ApiResult<R.ReadUsers>> {
    return withCallbacks(opts, this.receipts.readers(opts));
  }

  /**
   * (seen) getGroupMsgUnreadUser lists the members who have not read it: `{ type: 0, data: { total,
   * userlist, users: [{ username, reminded, remindedAt }], is_last, next_key } }` (reminded: how often
   * the member was reminded of it, remindedAt: when last, ms, 0 never).
   */
  getGroupMsgUnreadUser(opts: UnreadUsersOptions): Promise<R.ApiResult<R.UnreadUsers>> {
    return withCallbacks(opts, this.receipts.unread(opts));
  }

  /**
   * (seen) getGroupMsgReadCount returns reader counts: `{ groupId, msgIds, withUnread? }` ->
   * `{ type: 0, data: { [msgId]: count } }`; with `withUnread: true` also `unread: { [msgId]: n }`,
   * the members who may read each message and have not yet (so "read by count of count + n").
   * One request per 100 ids; each unread total costs the server a count over the group's members.
   */
  getGroupMsgReadCount(opts: ReadCountOptions): Promise<R.ReadCountResult> {
    return withCallbacks(opts, this.receipts.readCount(opts));
  }

  /**
   * (seen) remindUnreadMembers reminds the members who have not read a group message: `{ groupId,
   * msgId, users? }` (users: only these; default every eligible member who has not read it) ->
   * `{ type: 0, data: { reminded, skipped, at, nextAt } }`. The sender, the owner and admins may;
   * once per message per the server's interval (LIMIT_EXCEEDED names it; nextAt says when again).
   * Each reminded member gets `onReminder` on every device, live or after login.
   */
  remindUnreadMembers(opts: RemindOptions): Promise<R.ApiResult<R.RemindResult>> {
    return withCallbacks(opts, this.receipts.remind(opts));
  }

  /**
   * (seen) getGroupMsgReadAnalytics: how fast a message was read: `{ groupId, msgId }` ->
   * `{ type: 0, data: { msgId, sentAt, eligible, count, unread, to50, to90, toAll, histogram:
   * [{ upTo, count }] } }` (times in ms after sending; null: not reached yet / the last bucket).
   */
  getGroupMsgReadAnalytics(opts: ReadAnalyticsOptions): Promise<R.ApiResult<R.ReadAnalytics>> {
    return withCallbacks(opts, this.receipts.analytics(opts));
  }

  /** (seen) getGroupReceiptPolicy: `{ groupId }` -> `{ type: 0, data: { request, visibility, lists } }`, to any member. */
  getGroupReceiptPolicy(opts: ReceiptPolicyOptions): Promise<R.ApiResult<R.ReceiptPolicy>> {
    return withCallbacks(opts, this.policies.get(opts));
  }

  /**
   * (seen) setGroupReceiptPolicy changes the fields given: `{ groupId, request?: 'admins' | 'all',
   * visibility?: 'sender' | 'admins' | 'members', lists?: boolean }` -> the policy now. Owner and admins.
   */
  setGroupReceiptPolicy(opts: SetReceiptPolicyOptions): Promise<R.ApiResult<R.ReceiptPolicy>> {
    return withCallbacks(opts, this.policies.set(opts));
  }

  /** (seen) getUserSettings: the user's own settings, `{ type: 0, data: { sendReadReceipts } }`. */
  getUserSettings(opts: R.Callbacks<R.ApiResult<R.UserSettings>> = {}): Promise<R.ApiResult<R.UserSettings>> {
    return withCallbacks(opts, this.policies.settings());
  }

  /** (seen) setUserSettings: `{ sendReadReceipts: false }` stops reporting this user's reads (docs/receipts.md "Privacy"). */
  setUserSettings(opts: SetUserSettingsOptions): Promise<R.ApiResult<R.UserSettings>> {
    return withCallbacks(opts, this.policies.setSettings(opts));
  }

  // ---- groups (v4 names, v3 aliases after each) ----

  /** createGroup (v3/v4): `{ data: { groupname, desc, members, public, maxusers, ... } }` -> `{ data: { groupid } }`. */
  createGroup(opts: G.CreateGroupOptions): Promise<R.ApiResult<{ groupid: string }>> {
    return withCallbacks(opts, this.groups.createGroup(opts));
  }

  /** createGroupVNext (v4): `{ groupName, description, members, isPublic, maxUsers, ... }` -> `{ data: { groupId } }`. */
  createGroupVNext(opts: G.CreateGroupVNextOptions): Promise<R.ApiResult<{ groupId: string }>> {
    return withCallbacks(opts, this.groups.createGroupVNext(opts));
  }

  /** inviteUsersToGroup adds members: `{ groupId, users }` -> `{ data: [{ result, user, groupid }] }` (only those added). */
  inviteUsersToGroup(opts: G.InviteOptions): Promise<R.ApiResult<R.MemberAdded[]>> {
    return withCallbacks(opts, this.groups.invite(opts));
  }

  /** inviteToGroup is the v3 name of inviteUsersToGroup. */
  inviteToGroup(opts: G.InviteOptions): Promise<R.ApiResult<R.MemberAdded[]>> {
    return this.inviteUsersToGroup(opts);
  }

  /** setAdmin makes a member an admin: `{ groupId, username }`. */
  setAdmin(opts: G.GroupUserOptions<R.SetAdminResult>): Promise<R.SetAdminResult> {
    return withCallbacks(opts, this.groups.setAdmin(opts));
  }

  /** setGroupAdmin is the v3 name of setAdmin. */
  setGroupAdmin(opts: G.GroupUserOptions<R.SetAdminResult>): Promise<R.SetAdminResult> {
    return this.setAdmin(opts);
  }

  /** removeAdmin makes an admin a plain member again: `{ groupId, username }`. */
  removeAdmin(opts: G.GroupUserOptions<R.RemoveAdminResult>): Promise<R.RemoveAdminResult> {
    return withCallbacks(opts, this.groups.removeAdmin(opts));
  }

  /** removeGroupAdmin is the v3 name of removeAdmin. */
  removeGroupAdmin(opts: G.GroupUserOptions<R.RemoveAdminResult>): Promise<R.RemoveAdminResult> {
    return this.removeAdmin(opts);
  }

  /** removeGroupMember removes a member: `{ groupId, username }`. */
  removeGroupMember(opts: G.GroupUserOptions<R.ApiResult<R.MemberRemoved>>): Promise<R.ApiResult<R.MemberRemoved>> {
    return withCallbacks(opts, this.groups.removeMember(opts));
  }

  /** changeGroupOwner hands the group to another member: `{ groupId, newOwner }`. */
  changeGroupOwner(opts: G.ChangeOwnerOptions): Promise<R.ChangeOwnerResult> {
    return withCallbacks(opts, this.groups.changeOwner(opts));
  }

  /** leaveGroup: `{ groupId }`. */
  leaveGroup(opts: G.GroupOptions<R.ApiResult<R.GroupLeft>>): Promise<R.ApiResult<R.GroupLeft>> {
    return withCallbacks(opts, this.groups.leave(opts));
  }

  /** quitGroup is the v3 name of leaveGroup. */
  quitGroup(opts: G.GroupOptions<R.ApiResult<R.GroupLeft>>): Promise<R.ApiResult<R.GroupLeft>> {
    return this.leaveGroup(opts);
  }

  /** destroyGroup (owner only): `{ groupId }`. */
  destroyGroup(opts: G.GroupOptions<R.DestroyGroupResult>): Promise<R.DestroyGroupResult> {
    return withCallbacks(opts, this.groups.destroy(opts));
  }

  /** dissolveGroup is the v3 name of destroyGroup. */
  dissolveGroup(opts: G.GroupOptions<R.DestroyGroupResult>): Promise<R.DestroyGroupResult> {
    return this.destroyGroup(opts);
  }

  /** getGroupInfo: `{ groupId }` (one id, an array, or comma-separated) -> `{ data: [group] }`. */
  getGroupInfo(opts: G.GroupInfoOptions): Promise<R.ApiResult<R.GroupInfo[]>> {
    return withCallbacks(opts, this.groups.info(opts));
  }

  /**
   * getGroupMembers pages the members: `{ groupId, cursor?, limit? | pageSize? }` ->
   * `{ data: { members: [{ owner|member: username, username, role, joinedAt }], cursor } }`.
   */
  getGroupMembers(opts: G.GroupMembersOptions): Promise<R.ApiResult<{ members: R.GroupMember[]; cursor: string }>> {
    return withCallbacks(opts, this.groups.members(opts));
  }

  /** listGroupMembers is the v3 listing, by page number (from 1): `{ groupId, pageNum, pageSize }` -> `{ data: [{ owner|member: username }] }`. */
  listGroupMembers(opts: G.ListGroupMembersOptions): Promise<R.ApiResult<R.GroupMember[]>> {
    return withCallbacks(opts, this.groups.listMembers(opts));
  }

  /** getGroupAdmin lists the admins' usernames: `{ groupId }` -> `{ data: [username] }`. */
  getGroupAdmin(opts: G.GroupOptions<R.ApiResult<string[]>>): Promise<R.ApiResult<string[]>> {
    return withCallbacks(opts, this.groups.admins(opts));
  }

  /** getJoinedGroups lists this user's groups by page number (from 0, as the vendor's): `{ pageNum, pageSize }` -> `{ data: [{ groupid, groupname, ... }] }`. */
  getJoinedGroups(opts: G.JoinedGroupsOptions = {}): Promise<R.ApiResult<R.JoinedGroup[]>> {
    return withCallbacks(opts, this.groups.joined(opts));
  }

  /** getGroup is the v3 name of getJoinedGroups. */
  getGroup(opts: G.JoinedGroupsOptions = {}): Promise<R.ApiResult<R.JoinedGroup[]>> {
    return this.getJoinedGroups(opts);
  }
}

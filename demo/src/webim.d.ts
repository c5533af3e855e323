/**
 * The part of seen's Web SDK (the global `WebIM`, loaded from /sdk/webim.js) that the demo uses.
 * Written against sdk/README.md; the demo uses nothing else.
 */
export {};

declare global {
  /** An SDK error: `{ type, message, data }`. */
  interface WebIMError {
    type: number;
    message: string;
    data?: { name?: string; [k: string]: unknown };
  }

  /** An incoming or stored message, v4 shape. */
  interface WebIMMessage {
    id: string;
    type: 'txt' | 'custom' | string;
    chatType: 'singleChat' | 'groupChat';
    from: string;
    to: string;
    msg?: string;
    customEvent?: string;
    ext?: Record<string, unknown>;
    time: number;
    msgConfig?: { allowGroupAck?: boolean };
    readCount?: number;
    /** On my own single-chat messages: the peer has read it / it reached the peer's device. */
    isRead?: boolean;
    isDelivered?: boolean;
  }

  interface WebIMReadTracker {
    observe(el: Element, message: unknown): void;
    unobserve(el: Element): void;
    dispose(): void;
    /** Messages whose acks are settled, with their results. */
    readonly acked: ReadonlyMap<string, WebIMAckOutcome>;
  }

  /** How one message's ack was settled: accepted (counted or a repeat) or refused for good (error). */
  interface WebIMAckOutcome {
    counted: boolean;
    count?: number;
    error?: WebIMError;
  }

  interface WebIMPage<T> {
    type: 0;
    data: T;
  }

  interface WebIMConnection {
    user: string;
    deviceId: string;
    token: string;
    getUniqueId(): string;
    registerUser(o: { username: string; password: string }): Promise<unknown>;
    open(o: { user: string; pwd?: string; accessToken?: string }): Promise<{ accessToken: string; duration?: number }>;
    isOpened(): boolean;
    close(): void;
    logout(): Promise<void>;
    addEventHandler(id: string, handlers: Record<string, (e: any) => void>): void;
    removeEventHandler(id: string): void;
    send(m: unknown): Promise<{ localMsgId: string; serverMsgId: string; message: any }>;
    readTracker(o?: { dwellMs?: number; root?: Element | null; threshold?: number; onAck?: (mid: string, result: WebIMAckOutcome) => void }): WebIMReadTracker;
    getHistoryMessages(o: { targetId: string; chatType: string; cursor?: string; pageSize?: number; searchDirection?: 'up' | 'down' }): Promise<{ cursor: string; messages: WebIMMessage[]; isLast: boolean }>;
    getServerConversations(o?: { pageSize?: number; cursor?: string }): Promise<WebIMPage<{ conversations: { conversationId: string; conversationType: 'singleChat' | 'groupChat'; lastMessage?: WebIMMessage; unReadCount: number }[]; cursor: string }>>;
    getGroupMsgReadUser(o: { msgId: string; groupId: string; pageSize?: number; cursor?: string; order?: 'asc' | 'desc' }): Promise<WebIMPage<{ total: number; users: { username: string; time: number; ackContent: string }[]; is_last: boolean; next_key: string }>>;
    getGroupMsgUnreadUser(o: { msgId: string; groupId: string; pageSize?: number; cursor?: string }): Promise<WebIMPage<{ total: number; userlist: string[]; is_last: boolean; next_key: string }>>;
    getGroupMsgReadCount(o: { groupId: string; msgIds: string[]; withUnread?: boolean }): Promise<WebIMPage<Record<string, number>> & { unread?: Record<string, number> }>;
    createGroupVNext(o: { groupName: string; description?: string; members?: string[]; isPublic?: boolean }): Promise<WebIMPage<{ groupId: string }>>;
    inviteUsersToGroup(o: { groupId: string; users: string[] }): Promise<unknown>;
    removeGroupMember(o: { groupId: string; username: string }): Promise<unknown>;
    setAdmin(o: { groupId: string; username: string }): Promise<unknown>;
    removeAdmin(o: { groupId: string; username: string }): Promise<unknown>;
    leaveGroup(o: { groupId: string }): Promise<unknown>;
    destroyGroup(o: { groupId: string }): Promise<unknown>;
    getGroupInfo(o: { groupId: string }): Promise<WebIMPage<{ groupid: string; name: string; description: string; owner: string; affiliations_count: number }[]>>;
    getGroupMembers(o: { groupId: string; cursor?: string; limit?: number }): Promise<WebIMPage<{ members: { username: string; role: 'owner' | 'admin' | 'member'; joinedAt: number }[]; cursor: string }>>;
    getGroupAdmin(o: { groupId: string }): Promise<WebIMPage<string[]>>;
    getJoinedGroups(o: { pageNum: number; pageSize: number }): Promise<WebIMPage<{ groupid: string; groupname: string; owner: string; affiliations_count: number }[]>>;
  }

  interface WebIMGlobal {
    connection: new (options?: Record<string, unknown>) => WebIMConnection;
    message: { create(o: Record<string, unknown>): any };
    statusCode: Record<string, number>;
    version: string;
    conn?: WebIMConnection;
  }

  // eslint-disable-next-line no-var
  var WebIM: WebIMGlobal | undefined;
}

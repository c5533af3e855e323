/**
 * Read-receipt queries: who read a group message (`getGroupMsgReadUser`), who has not yet
 * (`getGroupMsgUnreadUser`), reader counts (`getGroupMsgReadCount`), how fast it was read
 * (`getGroupMsgReadAnalytics`), and reminding those who have not read it
 * (`remindUnreadMembers`), over seen's `receipt.readers`, `receipt.unread`, `receipt.counts`,
 * `receipt.analytics` and `receipt.remind` ops. Counts never go backwards: every count seen goes
 * through the connection's {@link ReadCounts}.
 */
import { maxAckBatch } from './batch';
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import type { ReadCounts } from './inbox';
import type { AnalyticsReply, RemindReply, WireReminded } from './protocol';
import type { ApiResult, Callbacks, ReadAnalytics, ReadCountResult, ReadUsers, RemindResult, UnreadUsers } from './results';

/** Options of `getGroupMsgReadUser`; (seen) `order` 'asc' (oldest read first, default) or 'desc'. */
export interface ReadUsersOptions extends Callbacks<ApiResult<ReadUsers>> {
  msgId: string;
  groupId: string;
  pageSize?: number;
  cursor?: string;
  order?: 'asc' | 'desc';
}

/** Options of `getGroupMsgUnreadUser`. */
export interface UnreadUsersOptions extends Callbacks<ApiResult<UnreadUsers>> {
  msgId: string;
  groupId: string;
  pageSize?: number;
  cursor?: string;
}

/** Options of `getGroupMsgReadCount`. */
export interface ReadCountOptions extends Callbacks<ReadCountResult> {
  groupId: string;
  msgIds: string[];
  withUnread?: boolean;
}

/** Options of `remindUnreadMembers`: every eligible member who has not read it, or those named in `users`. */
export interface RemindOptions extends Callbacks<ApiResult<RemindResult>> {
  groupId: string;
  msgId: string;
  users?: string[];
}

/** Options of `getGroupMsgReadAnalytics`. */
export interface ReadAnalyticsOptions extends Callbacks<ApiResult<ReadAnalytics>> {
  groupId: string;
  msgId: string;
}

/** need checks that a method got the ids it needs. */
function need(method: string, opts: { groupId?: unknown; msgId?: unknown } | undefined): void {
  if (!opts?.msgId || !opts.groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, `${method} needs msgId and groupId`);
}

/** Receipts implements the read-receipt queries. */
export class Receipts {
  constructor(
    private readonly request: Requester,
    private readonly counts: ReadCounts,
  ) {}

  async readers(opts: ReadUsersOptions): Promise<ApiResult<ReadUsers>> {
    need('getGroupMsgReadUser', opts);
    if (opts.order !== undefined && opts.order !== 'asc' && opts.order !== 'desc') throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, `getGroupMsgReadUser: order must be 'asc' or 'desc', not ${JSON.stringify(opts.order)}`);
    const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
    if (opts.cursor) data.cursor = String(opts.cursor);
    if (opts.pageSize) data.limit = opts.pageSize;
    if (opts.order) data.order = opts.order;
    const r = await this.request<{ total: number; users: { username: string; time: number; ackContent?: string }[]; cursor: string; isLast: boolean }>('receipt.readers', data);
    const users = (r.users ?? []).map((u) => ({ username: u.username, time: u.time, ackContent: u.ackContent ?? '' }));
    this.counts.max(String(opts.msgId), r.total ?? 0);
    return {
      type: 0,
      data: { ackmid: String(opts.msgId), total: r.total ?? users.length, userlist: users.map((u) => u.username), users, is_last: !!r.isLast, next_key: r.cursor ?? '', timestamp: Date.now() },
    };
  }

  async unread(opts: UnreadUsersOptions): Promise<ApiResult<UnreadUsers>> {
    need('getGroupMsgUnreadUser', opts);
    const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
    if (opts.cursor) data.cursor = String(opts.cursor);
    if (opts.pageSize) data.limit = opts.pageSize;
    const r = await this.request<{ total: number; users: string[]; reminders?: Record<string, WireReminded>; cursor: string; isLast: boolean }>('receipt.unread', data);
    const userlist = r.users ?? [];
    // reminders holds only the members of the page reminded at least once.
    const users = userlist.map((username) => ({ username, reminded: r.reminders?.[username]?.reminded ?? 0, remindedAt: r.reminders?.[username]?.remindedAt ?? 0 }));
    return { type: 0, data: { total: r.total ?? 0, userlist, users, is_last: !!r.isLast, next_key: r.cursor ?? '' } };
  }

  async remind(opts: RemindOptions): Promise<ApiResult<RemindResult>> {
    need('remindUnreadMembers', opts);
    const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
    if (opts.users !== undefined) {
      if (!Array.isArray(opts.users) || !opts.users.length) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'remindUnreadMembers: users must be a list of usernames (leave it out to remind everyone who has not read it)');
      data.users = opts.users.map(String);
    }
    const r = await this.request<RemindReply>('receipt.remind', data);
    return { type: 0, data: { reminded: r.reminded ?? 0, skipped: r.skipped ?? [], at: r.at, nextAt: r.nextAt } };
  }

  async analytics(opts: ReadAnalyticsOptions): Promise<ApiResult<ReadAnalytics>> {
    need('getGroupMsgReadAnalytics', opts);
    const r = await this.request<AnalyticsReply>('receipt.analytics', { groupId: String(opts.groupId), msgId: String(opts.msgId) });
    this.counts.max(String(opts.msgId), r.count ?? 0);
    const orNull = (v: number | null | undefined) => (typeof v === 'number' ? v : null);
    return {
      type: 0,
      data: {
        msgId: r.msgId, sentAt: r.sentAt, eligible: r.eligible, count: r.count, unread: r.unread,
        to50: orNull(r.to50), to90: orNull(r.to90), toAll: orNull(r.toAll),
        histogram: (r.histogram ?? []).map((b) => ({ upTo: orNull(b.upTo), count: b.count })),
      },
    };
  }

  async readCount(opts: ReadCountOptions): Promise<ReadCountResult> {
    if (!opts?.groupId || !Array.isArray(opts.msgIds)) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgReadCount needs groupId and msgIds');
    const out: Record<string, number> = {};
    const unread: Record<string, number> = {};
    let eligible: Record<string, number> | undefined;
    const ids = opts.msgIds.map(String);
    for (let i = 0; i < ids.length; i += maxAckBatch) {
      const data: Record<string, unknown> = { groupId: String(opts.groupId), msgIds: ids.slice(i, i + maxAckBatch) };
      if (opts.withUnread) data.withUnread = true;
      const r = await this.request<{ counts: Record<string, number>; unread?: Record<string, number>; eligible?: Record<string, number> }>('receipt.counts', data);
      for (const [mid, n] of Object.entries(r.counts ?? {})) out[mid] = this.counts.max(mid, n);
      Object.assign(unread, r.unread ?? {});
      if (r.eligible) eligible = Object.assign(eligible ?? {}, r.eligible);
    }
    const res: ReadCountResult = { type: 0, data: out };
    if (opts.withUnread) res.unread = unread;
    if (eligible) res.eligible = eligible;
    return res;
  }
}

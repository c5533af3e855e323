/**
 * Read-receipt queries: who read a group message (`getGroupMsgReadUser`), who has not yet
 * (`getGroupMsgUnreadUser`), and reader counts (`getGroupMsgReadCount`), over seen's
 * `receipt.readers`, `receipt.unread` and `receipt.counts` ops. Counts never go backwards: every
 * count seen goes through the connection's {@link ReadCounts}.
 */
import { maxAckBatch } from './batch';
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import type { ReadCounts } from './inbox';
import type { ApiResult, Callbacks, ReadCountResult, ReadUsers, UnreadUsers } from './results';

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

/** Receipts implements the read-receipt queries. */
export class Receipts {
  constructor(
    private readonly request: Requester,
    private readonly counts: ReadCounts,
  ) {}

  async readers(opts: ReadUsersOptions): Promise<ApiResult<ReadUsers>> {
    if (!opts?.msgId || !opts.groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgReadUser needs msgId and groupId');
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
    if (!opts?.msgId || !opts.groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgUnreadUser needs msgId and groupId');
    const data: Record<string, unknown> = { groupId: String(opts.groupId), msgId: String(opts.msgId) };
    if (opts.cursor) data.cursor = String(opts.cursor);
    if (opts.pageSize) data.limit = opts.pageSize;
    const r = await this.request<{ total: number; users: string[]; cursor: string; isLast: boolean }>('receipt.unread', data);
    return { type: 0, data: { total: r.total ?? 0, userlist: r.users ?? [], is_last: !!r.isLast, next_key: r.cursor ?? '' } };
  }

  async readCount(opts: ReadCountOptions): Promise<ReadCountResult> {
    if (!opts?.groupId || !Array.isArray(opts.msgIds)) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupMsgReadCount needs groupId and msgIds');
    const out: Record<string, number> = {};
    const unread: Record<string, number> = {};
    const ids = opts.msgIds.map(String);
    for (let i = 0; i < ids.length; i += maxAckBatch) {
      const data: Record<string, unknown> = { groupId: String(opts.groupId), msgIds: ids.slice(i, i + maxAckBatch) };
      if (opts.withUnread) data.withUnread = true;
      const r = await this.request<{ counts: Record<string, number>; unread?: Record<string, number> }>('receipt.counts', data);
      for (const [mid, n] of Object.entries(r.counts ?? {})) out[mid] = this.counts.max(mid, n);
      Object.assign(unread, r.unread ?? {});
    }
    return opts.withUnread ? { type: 0, data: out, unread } : { type: 0, data: out };
  }
}

import type { Requester } from './follower';
import type { ReadCounts } from './inbox';
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
/** Receipts implements the read-receipt queries. */
export declare class Receipts {
    private readonly request;
    private readonly counts;
    constructor(request: Requester, counts: ReadCounts);
    readers(opts: ReadUsersOptions): Promise<ApiResult<ReadUsers>>;
    unread(opts: UnreadUsersOptions): Promise<ApiResult<UnreadUsers>>;
    remind(opts: RemindOptions): Promise<ApiResult<RemindResult>>;
    analytics(opts: ReadAnalyticsOptions): Promise<ApiResult<ReadAnalytics>>;
    readCount(opts: ReadCountOptions): Promise<ReadCountResult>;
}

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
export declare class Receipts {
    private readonly request;
    private readonly counts;
    constructor(request: Requester, counts: ReadCounts);
    readers(opts: ReadUsersOptions): Promise<ApiResult<ReadUsers>>;
    unread(opts: UnreadUsersOptions): Promise<ApiResult<UnreadUsers>>;
    readCount(opts: ReadCountOptions): Promise<ReadCountResult>;
}

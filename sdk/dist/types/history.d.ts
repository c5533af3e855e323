import type { Requester } from './follower';
import type { ReadCounts } from './inbox';
import type { ApiResult, Callbacks, ChannelInfo, HistoryResult, ServerConversation } from './results';
/** Options of `getHistoryMessages`: `searchDirection` 'up' (older, default) or 'down' (newer). */
export interface HistoryOptions extends Callbacks<HistoryResult> {
    targetId: string;
    chatType?: string;
    cursor?: string | number | null;
    pageSize?: number;
    searchDirection?: 'up' | 'down';
    [k: string]: unknown;
}
/** Options of `getServerConversations`. */
export interface ConversationsOptions extends Callbacks<ApiResult<{
    conversations: ServerConversation[];
    cursor: string;
}>> {
    pageSize?: number;
    cursor?: string;
}
/** Options of `getConversationlist`. */
export interface ConversationListOptions extends Callbacks<ApiResult<{
    channel_infos: ChannelInfo[];
}>> {
    pageSize?: number;
}
/** History implements the history and conversation methods. */
export declare class History {
    private readonly request;
    private readonly counts;
    private readonly user;
    constructor(request: Requester, counts: ReadCounts, user: () => string);
    messages(opts: HistoryOptions): Promise<HistoryResult>;
    private convPage;
    serverConversations(opts: ConversationsOptions): Promise<ApiResult<{
        conversations: ServerConversation[];
        cursor: string;
    }>>;
    conversationList(opts: ConversationListOptions): Promise<ApiResult<{
        channel_infos: ChannelInfo[];
    }>>;
}

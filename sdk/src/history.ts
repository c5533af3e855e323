/**
 * History and conversations: `getHistoryMessages`, `getServerConversations` and the older
 * `getConversationlist`, over seen's `history` and `conv.list` ops, in the v4 message shape.
 */
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import type { ReadCounts } from './inbox';
import { normalizeChatType, toV4 } from './message';
import type { WireConversation, WireMessage } from './protocol';
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
export interface ConversationsOptions extends Callbacks<ApiResult<{ conversations: ServerConversation[]; cursor: string }>> {
  pageSize?: number;
  cursor?: string;
}

/** Options of `getConversationlist`. */
export interface ConversationListOptions extends Callbacks<ApiResult<{ channel_infos: ChannelInfo[] }>> {
  pageSize?: number;
}

/** History implements the history and conversation methods. */
export class History {
  constructor(
    private readonly request: Requester,
    private readonly counts: ReadCounts,
    private readonly user: () => string,
  ) {}

  async messages(opts: HistoryOptions): Promise<HistoryResult> {
    if (!opts?.targetId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getHistoryMessages needs targetId');
    const data: Record<string, unknown> = { chatType: normalizeChatType(opts.chatType), to: String(opts.targetId) };
    const c = opts.cursor;
    if (c !== undefined && c !== null && c !== '' && String(c) !== '-1') data.cursor = String(c);
    if (opts.pageSize) data.limit = opts.pageSize;
    data.direction = opts.searchDirection === 'down' ? 'newer' : 'older';
    const r = await this.request<{ messages: WireMessage[]; cursor: string; isLast: boolean }>('history', data);
    const user = this.user();
    const messages = (r.messages ?? []).map((m) => {
      if (typeof m.readCount === 'number') m.readCount = this.counts.max(m.id, m.readCount);
      // History is where the server carries the read state (docs/protocol.md): my single-chat
      // messages there always have isRead / isDelivered.
      return toV4(m, user);
    });
    return { cursor: r.cursor ?? '', messages, isLast: !!r.isLast };
  }

  private async convPage(opts: { pageSize?: number; cursor?: string } = {}): Promise<{ conversations: WireConversation[]; cursor: string }> {
    const data: Record<string, unknown> = {};
    if (opts.cursor) data.cursor = String(opts.cursor);
    if (opts.pageSize) data.limit = opts.pageSize;
    const r = await this.request<{ conversations: WireConversation[]; cursor: string }>('conv.list', data);
    return { conversations: r.conversations ?? [], cursor: r.cursor ?? '' };
  }

  async serverConversations(opts: ConversationsOptions): Promise<ApiResult<{ conversations: ServerConversation[]; cursor: string }>> {
    const { conversations, cursor } = await this.convPage(opts);
    return {
      type: 0,
      data: {
        conversations: conversations.map((c) => ({
          conversationId: c.to,
          conversationType: c.chatType,
          lastMessage: c.lastMessage ? toV4(c.lastMessage) : undefined,
          unReadCount: c.unread ?? 0,
        })),
        cursor,
      },
    };
  }

  async conversationList(opts: ConversationListOptions): Promise<ApiResult<{ channel_infos: ChannelInfo[] }>> {
    const all: WireConversation[] = [];
    let cursor = '';
    for (let i = 0; i < 1000; i++) {
      const page = await this.convPage({ cursor, pageSize: opts.pageSize ?? 100 });
      all.push(...page.conversations);
      if (!page.cursor) break;
      cursor = page.cursor;
    }
    return {
      type: 0,
      data: {
        channel_infos: all.map((c) => ({
          channel_id: c.to,
          chatType: c.chatType,
          lastMessage: c.lastMessage ? toV4(c.lastMessage) : undefined,
          unread_num: c.unread ?? 0,
          meta: {},
        })),
      },
    };
  }
}

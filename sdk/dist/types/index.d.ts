/**
 * seen's Web SDK: the WebIM API of the Easemob / Agora Chat Web SDK (v3 and v4 styles) over seen's
 * protocol. The UMD bundle defines the global `WebIM`; the ESM build exports the same object as
 * its default export, and its parts by name.
 */
import { Connection } from './connection';
import { clientCodes, serverCodes, statusCode, WebIMError } from './errors';
import { deviceId, uniqueId } from './ids';
import { create, Message } from './message';
/** The SDK version. */
export declare const version = "0.1.0";
/** `WebIM.utils`: small helpers apps used from the vendor's SDK. */
export declare const utils: {
    /** getUniqueId returns a new local message id (as `conn.getUniqueId()`). */
    getUniqueId: typeof uniqueId;
    /** deviceId returns this browser's device id (kept in localStorage under `seen.deviceId`). */
    deviceId: typeof deviceId;
    /** isBrowser reports whether the SDK runs in a browser page. */
    isBrowser: () => boolean;
};
/** The shape of the `WebIM` global. */
export interface WebIMNamespace {
    connection: typeof Connection;
    message: typeof Message & {
        create: typeof create;
    };
    utils: typeof utils;
    statusCode: typeof statusCode;
    serverCodes: typeof serverCodes;
    clientCodes: typeof clientCodes;
    WebIMError: typeof WebIMError;
    version: string;
    /** An app convention: `WebIM.conn = new WebIM.connection(...)`. */
    conn?: Connection;
    [key: string]: unknown;
}
declare const WebIM: WebIMNamespace;
export default WebIM;
export { Connection as connection, Connection, Message as message, Message, create, statusCode, serverCodes, clientCodes, WebIMError };
export type { SocketCtor, SocketLike } from './transport';
export type { ChannelAckEvent, ChatType, ConnectionOptions, ConversationReadEvent, DeliveryReceiptEvent, GroupEvent, Handlers, ListenHandlers, ReadReceiptEvent, ReceivedMessage, ReconnectingEvent, ReminderEvent, StatisticEntry, StatisticEvent, StatisticLocation, V3ChannelAckEvent, V3DeliveryReceiptEvent, V3GroupEvent, V3ReadReceiptEvent, V3ReceivedMessage, V3ReminderEvent, VendorHandler, } from './types';
export type { ApiResult, Callbacks, ChangeOwnerResult, ChannelInfo, DestroyGroupResult, GroupInfo, GroupLeft, GroupMember, HistoryResult, JoinedGroup, MemberAdded, MemberRemoved, OpenOptions, OpenResult, ReadAnalytics, ReadBucket, ReadCountResult, ReaderInfo, ReadUsers, ReceiptPolicy, ReceiptRequest, ReceiptVisibility, RegisterOptions, RemindResult, RemoveAdminResult, SendResult, ServerConversation, SetAdminResult, UnreadUser, UnreadUsers, UserSettings, } from './results';
export type { ChangeOwnerOptions, CreateGroupOptions, CreateGroupVNextOptions, GroupInfoOptions, GroupMembersOptions, GroupOptions, GroupUserOptions, InviteOptions, JoinedGroupsOptions, ListGroupMembersOptions, } from './groups';
export type { ConversationListOptions, ConversationsOptions, HistoryOptions } from './history';
export type { ReadAnalyticsOptions, ReadCountOptions, ReadUsersOptions, RemindOptions, UnreadUsersOptions } from './receipts';
export type { ReceiptPolicyOptions, SetReceiptPolicyOptions, SetUserSettingsOptions } from './policy';
export type { ServerCodeName, WebIMErrorData } from './errors';
export type { MessageBody, MessageType, MsgConfig, CreateOptions } from './message';
export type { AckOutcome, ReadTracker, ReadTrackerOptions } from './tracker';
export { backoffDelay } from './backoff';

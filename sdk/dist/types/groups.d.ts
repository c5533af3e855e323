import type { Requester } from './follower';
import type { ApiResult, Callbacks, ChangeOwnerResult, DestroyGroupResult, GroupInfo, GroupLeft, GroupMember, JoinedGroup, MemberAdded, MemberRemoved, RemoveAdminResult, SetAdminResult } from './results';
/** Options of `createGroup` (v3 shape). Vendor options seen does not have are accepted and ignored. */
export interface CreateGroupOptions extends Callbacks<ApiResult<{
    groupid: string;
}>> {
    data: {
        groupname: string;
        desc?: string;
        members?: string[];
        public?: boolean;
        maxusers?: number;
        approval?: boolean;
        allowinvites?: boolean;
        inviteNeedConfirm?: boolean;
        ext?: unknown;
        [k: string]: unknown;
    };
}
/** Options of `createGroupVNext` (v4 shape). */
export interface CreateGroupVNextOptions extends Callbacks<ApiResult<{
    groupId: string;
}>> {
    groupName: string;
    description?: string;
    members?: string[];
    isPublic?: boolean;
    maxUsers?: number;
    extension?: unknown;
    [k: string]: unknown;
}
/** `{ groupId }` with the v3 callbacks. */
export interface GroupOptions<T> extends Callbacks<T> {
    groupId: string;
}
/** `{ groupId, users }`: the members to add. */
export interface InviteOptions extends GroupOptions<ApiResult<MemberAdded[]>> {
    users: string[];
}
/** `{ groupId, newOwner }`. */
export interface ChangeOwnerOptions extends GroupOptions<ChangeOwnerResult> {
    newOwner: string;
}
/** `getGroupInfo`'s options: one id, an array, or comma-separated ids. */
export interface GroupInfoOptions extends Callbacks<ApiResult<GroupInfo[]>> {
    groupId: string | string[];
}
/** `{ groupId, username }`: a member to change. */
export interface GroupUserOptions<T> extends GroupOptions<T> {
    username: string;
}
/** Options of `getGroupMembers`: a cursor page. */
export interface GroupMembersOptions extends GroupOptions<ApiResult<{
    members: GroupMember[];
    cursor: string;
}>> {
    cursor?: string;
    limit?: number;
    pageSize?: number;
}
/** Options of `listGroupMembers`: a page number, from 1. */
export interface ListGroupMembersOptions extends GroupOptions<ApiResult<GroupMember[]>> {
    pageNum?: number;
    pageSize?: number;
}
/** Options of `getJoinedGroups`: a page number, from 0. */
export interface JoinedGroupsOptions extends Callbacks<ApiResult<JoinedGroup[]>> {
    pageNum?: number;
    pageSize?: number;
    [k: string]: unknown;
}
/**
 * PageCursors maps the vendor's page numbers onto seen's cursors: the cursor of page n is only
 * known after page n-1 was read, so unknown pages are walked to.
 */
export declare class PageCursors {
    private cursors;
    /** page returns the items of page index (from 0) of the listing key. */
    page<T>(key: string, index: number, fetchPage: (cursor: string) => Promise<{
        items: T[];
        cursor: string;
    }>): Promise<T[]>;
}
/** Groups implements the group methods; each returns the vendor's result shape. */
export declare class Groups {
    private readonly request;
    private readonly user;
    private readonly pages;
    constructor(request: Requester, user: () => string);
    createGroup(opts: CreateGroupOptions): Promise<ApiResult<{
        groupid: string;
    }>>;
    createGroupVNext(opts: CreateGroupVNextOptions): Promise<ApiResult<{
        groupId: string;
    }>>;
    private create;
    invite(opts: InviteOptions): Promise<ApiResult<MemberAdded[]>>;
    setAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<SetAdminResult>;
    removeAdmin(opts: {
        groupId: string;
        username: string;
    }): Promise<RemoveAdminResult>;
    removeMember(opts: {
        groupId: string;
        username: string;
    }): Promise<ApiResult<MemberRemoved>>;
    changeOwner(opts: ChangeOwnerOptions): Promise<ChangeOwnerResult>;
    leave(opts: {
        groupId: string;
    }): Promise<ApiResult<GroupLeft>>;
    destroy(opts: {
        groupId: string;
    }): Promise<DestroyGroupResult>;
    info(opts: GroupInfoOptions): Promise<ApiResult<GroupInfo[]>>;
    members(opts: GroupMembersOptions): Promise<ApiResult<{
        members: GroupMember[];
        cursor: string;
    }>>;
    listMembers(opts: ListGroupMembersOptions): Promise<ApiResult<GroupMember[]>>;
    private membersPage;
    admins(opts: {
        groupId: string;
    }): Promise<ApiResult<string[]>>;
    joined(opts: JoinedGroupsOptions): Promise<ApiResult<JoinedGroup[]>>;
}

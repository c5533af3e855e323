/**
 * Groups: the WebIM group methods (v4 names; the facade adds the v3 aliases) over seen's `group.*`
 * ops, and the vendor's page numbers mapped onto seen's cursors ({@link PageCursors}).
 */
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import { policy } from './policy';
import type { WireGroup, WireMember } from './protocol';
import type { ApiResult, Callbacks, ChangeOwnerResult, DestroyGroupResult, GroupInfo, GroupLeft, GroupMember, JoinedGroup, MemberAdded, MemberRemoved, RemoveAdminResult, SetAdminResult } from './results';

/** Options of `createGroup` (v3 shape). Vendor options seen does not have are accepted and ignored. */
export interface CreateGroupOptions extends Callbacks<ApiResult<{ groupid: string }>> {
  data: { groupname: string; desc?: string; members?: string[]; public?: boolean; maxusers?: number; approval?: boolean; allowinvites?: boolean; inviteNeedConfirm?: boolean; ext?: unknown; [k: string]: unknown };
}

/** Options of `createGroupVNext` (v4 shape). */
export interface CreateGroupVNextOptions extends Callbacks<ApiResult<{ groupId: string }>> {
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
export interface GroupMembersOptions extends GroupOptions<ApiResult<{ members: GroupMember[]; cursor: string }>> {
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
export class PageCursors {
  private cursors = new Map<string, string[]>();

  /** page returns the items of page index (from 0) of the listing key. */
  async page<T>(key: string, index: number, fetchPage: (cursor: string) => Promise<{ items: T[]; cursor: string }>): Promise<T[]> {
    let known = this.cursors.get(key);
    if (!known) this.cursors.set(key, (known = ['']));
    let i = Math.min(index, known.length - 1);
    for (;;) {
      const { items, cursor } = await fetchPage(known[i]);
      known[i + 1] = cursor;
      if (i === index) return items;
      if (!cursor) return [];
      i++;
    }
  }
}

/** Groups implements the group methods; each returns the vendor's result shape. */
export class Groups {
  private readonly pages = new PageCursors();

  constructor(
    private readonly request: Requester,
    private readonly user: () => string,
  ) {}

  async createGroup(opts: CreateGroupOptions): Promise<ApiResult<{ groupid: string }>> {
    const d = opts?.data ?? ({} as CreateGroupOptions['data']);
    const g = await this.create(d.groupname, d.desc, d.public, d.maxusers, d.members, d.ext);
    return { type: 0, data: { groupid: g.groupId } };
  }

  async createGroupVNext(opts: CreateGroupVNextOptions): Promise<ApiResult<{ groupId: string }>> {
    const g = await this.create(opts?.groupName, opts?.description, opts?.isPublic, opts?.maxUsers, opts?.members, opts?.extension);
    return { type: 0, data: { groupId: g.groupId } };
  }

  private create(name: unknown, description: unknown, isPublic: unknown, max: unknown, members: unknown, ext: unknown): Promise<WireGroup> {
    if (!name) return Promise.reject(clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'a group needs a name'));
    const data: Record<string, unknown> = { name: String(name) };
    if (description) data.description = String(description);
    if (typeof isPublic === 'boolean') data.public = isPublic;
    if (typeof max === 'number' && max > 0) data.maxMembers = max;
    if (Array.isArray(members) && members.length) data.members = members.map(String);
    const e = parseExt(ext);
    if (e) data.ext = e;
    return this.request<WireGroup>('group.create', data);
  }

  async invite(opts: InviteOptions): Promise<ApiResult<MemberAdded[]>> {
    const r = await this.request<{ added: string[] }>('group.add', { groupId: String(opts.groupId), users: (opts.users ?? []).map(String) });
    return { type: 0, data: (r.added ?? []).map((user) => ({ result: true, action: 'add_member', user, groupid: String(opts.groupId) })) };
  }

  async setAdmin(opts: { groupId: string; username: string }): Promise<SetAdminResult> {
    await this.request('group.setAdmin', { groupId: String(opts.groupId), user: String(opts.username) });
    return { type: 0, data: { result: 'success', newadmin: opts.username } };
  }

  async removeAdmin(opts: { groupId: string; username: string }): Promise<RemoveAdminResult> {
    await this.request('group.removeAdmin', { groupId: String(opts.groupId), user: String(opts.username) });
    return { type: 0, data: { result: 'success', oldadmin: opts.username } };
  }

  async removeMember(opts: { groupId: string; username: string }): Promise<ApiResult<MemberRemoved>> {
    await this.request('group.remove', { groupId: String(opts.groupId), user: String(opts.username) });
    return { type: 0, data: { result: true, action: 'remove_member', user: opts.username, groupid: String(opts.groupId) } };
  }

  async changeOwner(opts: ChangeOwnerOptions): Promise<ChangeOwnerResult> {
    await this.request('group.transfer', { groupId: String(opts.groupId), user: String(opts.newOwner) });
    return { type: 0, data: { newowner: opts.newOwner } };
  }

  async leave(opts: { groupId: string }): Promise<ApiResult<GroupLeft>> {
    await this.request('group.leave', { groupId: String(opts.groupId) });
    return { type: 0, data: { result: true, action: 'quit', groupid: String(opts.groupId), user: this.user() } };
  }

  async destroy(opts: { groupId: string }): Promise<DestroyGroupResult> {
    await this.request('group.destroy', { groupId: String(opts.groupId) });
    return { type: 0, data: { success: true, groupid: String(opts.groupId) } };
  }

  async info(opts: GroupInfoOptions): Promise<ApiResult<GroupInfo[]>> {
    const ids = Array.isArray(opts?.groupId) ? opts.groupId : String(opts?.groupId ?? '').split(',').filter(Boolean);
    if (!ids.length) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'getGroupInfo needs groupId');
    const groups = await Promise.all(ids.map((id) => this.request<WireGroup>('group.info', { groupId: String(id).trim() })));
    return { type: 0, data: groups.map(groupInfo) };
  }

  async members(opts: GroupMembersOptions): Promise<ApiResult<{ members: GroupMember[]; cursor: string }>> {
    const r = await this.membersPage(opts.groupId, opts.cursor ?? '', opts.limit ?? opts.pageSize);
    return { type: 0, data: { members: r.items, cursor: r.cursor } };
  }

  async listMembers(opts: ListGroupMembersOptions): Promise<ApiResult<GroupMember[]>> {
    const size = opts.pageSize ?? 20;
    const index = Math.max(1, opts.pageNum ?? 1) - 1;
    const items = await this.pages.page(`members:${opts.groupId}:${size}`, index, (cursor) => this.membersPage(opts.groupId, cursor, size));
    return { type: 0, data: items };
  }

  private async membersPage(groupId: string, cursor: string, limit?: number): Promise<{ items: GroupMember[]; cursor: string }> {
    if (!groupId) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'groupId is required');
    const data: Record<string, unknown> = { groupId: String(groupId) };
    if (cursor) data.cursor = cursor;
    if (limit) data.limit = limit;
    const r = await this.request<{ members: WireMember[]; cursor: string }>('group.members', data);
    return { items: (r.members ?? []).map(member), cursor: r.cursor ?? '' };
  }

  async admins(opts: { groupId: string }): Promise<ApiResult<string[]>> {
    const r = await this.request<{ members: WireMember[] }>('group.admins', { groupId: String(opts.groupId) });
    return { type: 0, data: (r.members ?? []).map((m) => m.username) };
  }

  async joined(opts: JoinedGroupsOptions): Promise<ApiResult<JoinedGroup[]>> {
    const size = opts.pageSize ?? 20;
    const index = Math.max(0, opts.pageNum ?? 0);
    return {
      type: 0,
      data: await this.pages.page(`mine:${size}`, index, async (cursor) => {
        const data: Record<string, unknown> = { limit: size };
        if (cursor) data.cursor = cursor;
        const r = await this.request<{ groups: WireGroup[]; cursor: string }>('group.mine', data);
        return {
          items: (r.groups ?? []).map((g) => {
            const j: JoinedGroup = { groupid: g.groupId, groupname: g.name, description: g.description ?? '', public: !!g.public, owner: g.owner, affiliations_count: g.memberCount ?? 0, maxusers: g.maxMembers ?? 0, created: g.createdAt ?? 0 };
            if (g.receiptPolicy) j.receiptPolicy = policy(g.receiptPolicy);
            return j;
          }),
          cursor: r.cursor ?? '',
        };
      }),
    };
  }
}

/** parseExt takes a group's ext as an object, JSON text, or plain text (kept as `{ value }`). */
function parseExt(ext: unknown): Record<string, unknown> | undefined {
  if (ext && typeof ext === 'object' && !Array.isArray(ext)) return ext as Record<string, unknown>;
  if (typeof ext === 'string' && ext) {
    try {
      const v = JSON.parse(ext);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch {
      // not JSON: keep it as text
    }
    return { value: ext };
  }
  return undefined;
}

function groupInfo(g: WireGroup): GroupInfo {
  const info: GroupInfo = {
    id: g.groupId,
    groupid: g.groupId,
    name: g.name,
    description: g.description ?? '',
    public: !!g.public,
    owner: g.owner,
    created: g.createdAt ?? 0,
    maxusers: g.maxMembers ?? 0,
    affiliations_count: g.memberCount ?? 0,
    custom: g.ext ? JSON.stringify(g.ext) : '',
    ext: g.ext ?? {},
  };
  if (g.receiptPolicy) info.receiptPolicy = policy(g.receiptPolicy);
  return info;
}

function member(m: WireMember): GroupMember {
  const key = m.role === 'owner' ? 'owner' : 'member';
  return { [key]: m.username, username: m.username, role: m.role, joinedAt: m.joinedAt ?? 0 };
}

/**
 * Who sees receipts: a group's receipt policy (`getGroupReceiptPolicy`, `setGroupReceiptPolicy`,
 * over `group.policy` / `group.setPolicy`) and the user's own settings (`getUserSettings`,
 * `setUserSettings`, over `user.settings` / `user.setSettings`), whose `sendReadReceipts: false`
 * keeps the user's reads from being reported (docs/receipts.md, "Privacy").
 */
import { clientCodes, clientError } from './errors';
import type { Requester } from './follower';
import type { WirePolicy, WireSettings } from './protocol';
import type { ApiResult, Callbacks, ReceiptPolicy, ReceiptRequest, ReceiptVisibility, UserSettings } from './results';

/** Options of `getGroupReceiptPolicy`. */
export interface ReceiptPolicyOptions extends Callbacks<ApiResult<ReceiptPolicy>> {
  groupId: string;
}

/** Options of `setGroupReceiptPolicy`: the fields given change, the others stay. */
export interface SetReceiptPolicyOptions extends ReceiptPolicyOptions {
  request?: ReceiptRequest;
  visibility?: ReceiptVisibility;
  lists?: boolean;
}

/** Options of `setUserSettings`. */
export interface SetUserSettingsOptions extends Callbacks<ApiResult<UserSettings>> {
  sendReadReceipts: boolean;
}

const requests: readonly string[] = ['admins', 'all'];
const visibilities: readonly string[] = ['sender', 'admins', 'members'];

function bad(message: string): never {
  throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, message);
}

/** policy is the public shape of a wire policy. */
export function policy(p: WirePolicy): ReceiptPolicy {
  return { request: p.request, visibility: p.visibility, lists: !!p.lists };
}

/** Policies implements the receipt policy and settings methods. */
export class Policies {
  constructor(private readonly request: Requester) {}

  async get(opts: ReceiptPolicyOptions): Promise<ApiResult<ReceiptPolicy>> {
    if (!opts?.groupId) bad('getGroupReceiptPolicy needs groupId');
    return { type: 0, data: policy(await this.request<WirePolicy>('group.policy', { groupId: String(opts.groupId) })) };
  }

  async set(opts: SetReceiptPolicyOptions): Promise<ApiResult<ReceiptPolicy>> {
    if (!opts?.groupId) bad('setGroupReceiptPolicy needs groupId');
    const data: Record<string, unknown> = { groupId: String(opts.groupId) };
    const { request, visibility, lists } = opts;
    if (request !== undefined) data.request = requests.includes(request) ? request : bad(`setGroupReceiptPolicy: request must be 'admins' or 'all', not ${JSON.stringify(request)}`);
    if (visibility !== undefined) data.visibility = visibilities.includes(visibility) ? visibility : bad(`setGroupReceiptPolicy: visibility must be 'sender', 'admins' or 'members', not ${JSON.stringify(visibility)}`);
    if (lists !== undefined) data.lists = typeof lists === 'boolean' ? lists : bad('setGroupReceiptPolicy: lists must be true or false');
    if (Object.keys(data).length === 1) bad('setGroupReceiptPolicy: give request, visibility or lists');
    return { type: 0, data: policy(await this.request<WirePolicy>('group.setPolicy', data)) };
  }

  async settings(): Promise<ApiResult<UserSettings>> {
    const r = await this.request<WireSettings>('user.settings', {});
    return { type: 0, data: { sendReadReceipts: r.sendReadReceipts !== false } };
  }

  async setSettings(opts: SetUserSettingsOptions): Promise<ApiResult<UserSettings>> {
    if (typeof opts?.sendReadReceipts !== 'boolean') bad('setUserSettings: sendReadReceipts must be true or false');
    const r = await this.request<WireSettings>('user.setSettings', { sendReadReceipts: opts.sendReadReceipts });
    return { type: 0, data: { sendReadReceipts: r.sendReadReceipts !== false } };
  }
}

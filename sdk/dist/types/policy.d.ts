import type { Requester } from './follower';
import type { WirePolicy } from './protocol';
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
/** policy is the public shape of a wire policy. */
export declare function policy(p: WirePolicy): ReceiptPolicy;
/** Policies implements the receipt policy and settings methods. */
export declare class Policies {
    private readonly request;
    constructor(request: Requester);
    get(opts: ReceiptPolicyOptions): Promise<ApiResult<ReceiptPolicy>>;
    set(opts: SetReceiptPolicyOptions): Promise<ApiResult<ReceiptPolicy>>;
    settings(): Promise<ApiResult<UserSettings>>;
    setSettings(opts: SetUserSettingsOptions): Promise<ApiResult<UserSettings>>;
}

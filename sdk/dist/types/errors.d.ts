/**
 * Errors and the code table.
 *
 * Every error the SDK reports is a {@link WebIMError}: `{ type, message, data }`, where `type` is a
 * number. Server errors carry the server's numeric code (the table in internal/chat/error.go,
 * mirrored here in {@link serverCodes}); errors the SDK detects itself use the vendor's client-side
 * numbers (negative, or below 50), which never collide with a server code.
 */
/**
 * The server's codes, name -> number: an exact mirror of `Numbers` in internal/chat/error.go.
 * A test compares the two, so they cannot drift. Codes are only ever added.
 */
export declare const serverCodes: {
    readonly bad_request: 110;
    readonly unauthorized: 202;
    readonly token_expired: 108;
    readonly registration_closed: 208;
    readonly user_exists: 203;
    readonly user_not_found: 204;
    readonly permission_denied: 603;
    readonly group_not_found: 605;
    readonly not_member: 602;
    readonly already_member: 601;
    readonly group_full: 606;
    readonly message_not_found: 51;
    readonly too_large: 511;
    readonly rate_limited: 509;
    readonly limit_exceeded: 50;
    readonly not_allowed: 54;
    readonly unavailable: 302;
    readonly internal: 303;
};
/** A server error name, as sent in `error.name`. */
export type ServerCodeName = keyof typeof serverCodes;
/**
 * Errors the SDK detects itself. The numbers are the vendor's Web SDK numbers for the same
 * conditions; none of them is also a server code.
 */
export declare const clientCodes: {
    /** No reply within `requestTimeout`. */
    readonly REQUEST_TIMEOUT: -1;
    /** A reply or push the SDK could not understand. */
    readonly REQUEST_UNKNOWN: -2;
    /** The SDK refused the arguments before sending anything. */
    readonly REQUEST_PARAMETER_ERROR: -3;
    /** The request was abandoned: `close()` was called while it was pending. */
    readonly REQUEST_ABORT: -4;
    /**
     * The connection is down (being re-established): the request was not sent, or its reply was lost.
     * Retry once `onConnected` fires, or open with `queueWhileDisconnected: true`.
     */
    readonly WEBIM_CONNCTION_DISCONNECTED: 16;
    /** A REST call failed without a server error (network failure, non-JSON answer). */
    readonly WEBIM_CONNCTION_AJAX_ERROR: 17;
    /** `open()` without `pwd` or `accessToken`. */
    readonly WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR: 28;
    /** A handler threw; the error is in `data`. */
    readonly WEBIM_CONNCTION_CALLBACK_INNER_ERROR: 31;
    /** There is no session: `open()` was never called, failed, or `close()` was called. */
    readonly WEBIM_CONNECTION_CLOSED: 39;
};
/**
 * `WebIM.statusCode`: every number the SDK can report, by name. It holds the server codes under
 * their chat/error.go names upper-cased (`PERMISSION_DENIED`), under the vendor names they mirror
 * (`INVALID_PARAM`, `USER_AUTHENTICATION_FAILED`, ...), and the client-side codes.
 */
export declare const statusCode: {
    /** No reply within `requestTimeout`. */
    readonly REQUEST_TIMEOUT: -1;
    /** A reply or push the SDK could not understand. */
    readonly REQUEST_UNKNOWN: -2;
    /** The SDK refused the arguments before sending anything. */
    readonly REQUEST_PARAMETER_ERROR: -3;
    /** The request was abandoned: `close()` was called while it was pending. */
    readonly REQUEST_ABORT: -4;
    /**
     * The connection is down (being re-established): the request was not sent, or its reply was lost.
     * Retry once `onConnected` fires, or open with `queueWhileDisconnected: true`.
     */
    readonly WEBIM_CONNCTION_DISCONNECTED: 16;
    /** A REST call failed without a server error (network failure, non-JSON answer). */
    readonly WEBIM_CONNCTION_AJAX_ERROR: 17;
    /** `open()` without `pwd` or `accessToken`. */
    readonly WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR: 28;
    /** A handler threw; the error is in `data`. */
    readonly WEBIM_CONNCTION_CALLBACK_INNER_ERROR: 31;
    /** There is no session: `open()` was never called, failed, or `close()` was called. */
    readonly WEBIM_CONNECTION_CLOSED: 39;
    readonly BAD_REQUEST: 110;
    readonly UNAUTHORIZED: 202;
    readonly TOKEN_EXPIRED: 108;
    readonly REGISTRATION_CLOSED: 208;
    readonly USER_EXISTS: 203;
    readonly USER_NOT_FOUND: 204;
    readonly PERMISSION_DENIED: 603;
    readonly GROUP_NOT_FOUND: 605;
    readonly NOT_MEMBER: 602;
    readonly ALREADY_MEMBER: 601;
    readonly GROUP_FULL: 606;
    readonly MESSAGE_NOT_FOUND: 51;
    readonly TOO_LARGE: 511;
    readonly RATE_LIMITED: 509;
    readonly LIMIT_EXCEEDED: 50;
    readonly NOT_ALLOWED: 54;
    readonly UNAVAILABLE: 302;
    readonly INTERNAL: 303;
    readonly INVALID_PARAM: 110;
    readonly USER_AUTHENTICATION_FAILED: 202;
    readonly USER_REG_FAILED: 208;
    readonly USER_ALREADY_EXIST: 203;
    readonly GROUP_NOT_EXIST: 605;
    readonly GROUP_NOT_JOINED: 602;
    readonly GROUP_ALREADY_JOINED: 601;
    readonly GROUP_MEMBERS_FULL: 606;
    readonly MESSAGE_SIZE_LIMIT: 511;
    readonly MESSAGE_CURRENT_LIMITING: 509;
    readonly MAX_LIMIT: 50;
    readonly OPERATION_NOT_ALLOWED: 54;
    readonly SERVER_BUSY: 302;
    readonly SERVER_UNKNOWN_ERROR: 303;
    readonly REQUEST_SUCCESS: 0;
};
/** The payload of every error the SDK reports. */
export interface WebIMErrorData {
    /** The server's stable error name (`permission_denied`), when the server reported the error. */
    name?: string;
    /** Anything else that helps: the WebSocket close code, the HTTP status, the cause. */
    [key: string]: unknown;
}
/** The SDK's error: `{ type, message, data }`. It is an `Error`, so it has a stack. */
export declare class WebIMError extends Error {
    /** The numeric code: a server code or one of {@link clientCodes}. */
    type: number;
    data: WebIMErrorData;
    constructor(type: number, message: string, data?: WebIMErrorData);
}
/** The wire error object of a failed reply (`{"code", "name", "message"}`). */
export interface WireError {
    code?: number;
    name?: string;
    message?: string;
}
/** fromWire turns a server error object into a WebIMError. */
export declare function fromWire(e: WireError | undefined, extra?: WebIMErrorData): WebIMError;
/** Shorthand for a client-side error. */
export declare function clientError(type: number, message: string, data?: WebIMErrorData): WebIMError;

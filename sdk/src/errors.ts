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
export const serverCodes = {
  bad_request: 110,
  unauthorized: 202,
  token_expired: 108,
  registration_closed: 208,
  user_exists: 203,
  user_not_found: 204,
  permission_denied: 603,
  group_not_found: 605,
  not_member: 602,
  already_member: 601,
  group_full: 606,
  message_not_found: 51,
  too_large: 511,
  rate_limited: 509,
  limit_exceeded: 50,
  not_allowed: 54,
  unavailable: 302,
  internal: 303,
} as const;

/** A server error name, as sent in `error.name`. */
export type ServerCodeName = keyof typeof serverCodes;

/**
 * Errors the SDK detects itself. The numbers are the vendor's Web SDK numbers for the same
 * conditions; none of them is also a server code.
 */
export const clientCodes = {
  /** No reply within `requestTimeout`. */
  REQUEST_TIMEOUT: -1,
  /** A reply or push the SDK could not understand. */
  REQUEST_UNKNOWN: -2,
  /** The SDK refused the arguments before sending anything. */
  REQUEST_PARAMETER_ERROR: -3,
  /** The request was abandoned: `close()` was called while it was pending. */
  REQUEST_ABORT: -4,
  /**
   * The connection is down (being re-established): the request was not sent, or its reply was lost.
   * Retry once `onConnected` fires, or open with `queueWhileDisconnected: true`.
   */
  WEBIM_CONNCTION_DISCONNECTED: 16,
  /** A REST call failed without a server error (network failure, non-JSON answer). */
  WEBIM_CONNCTION_AJAX_ERROR: 17,
  /** `open()` without `pwd` or `accessToken`. */
  WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR: 28,
  /** A handler threw; the error is in `data`. */
  WEBIM_CONNCTION_CALLBACK_INNER_ERROR: 31,
  /** There is no session: `open()` was never called, failed, or `close()` was called. */
  WEBIM_CONNECTION_CLOSED: 39,
} as const;

/**
 * `WebIM.statusCode`: every number the SDK can report, by name. It holds the server codes under
 * their chat/error.go names upper-cased (`PERMISSION_DENIED`), under the vendor names they mirror
 * (`INVALID_PARAM`, `USER_AUTHENTICATION_FAILED`, ...), and the client-side codes.
 */
export const statusCode = {
  // Server codes, chat/error.go names.
  BAD_REQUEST: 110,
  UNAUTHORIZED: 202,
  TOKEN_EXPIRED: 108,
  REGISTRATION_CLOSED: 208,
  USER_EXISTS: 203,
  USER_NOT_FOUND: 204,
  PERMISSION_DENIED: 603,
  GROUP_NOT_FOUND: 605,
  NOT_MEMBER: 602,
  ALREADY_MEMBER: 601,
  GROUP_FULL: 606,
  MESSAGE_NOT_FOUND: 51,
  TOO_LARGE: 511,
  RATE_LIMITED: 509,
  LIMIT_EXCEEDED: 50,
  NOT_ALLOWED: 54,
  UNAVAILABLE: 302,
  INTERNAL: 303,
  // The same numbers under the vendor names (comments in chat/error.go).
  INVALID_PARAM: 110,
  USER_AUTHENTICATION_FAILED: 202,
  USER_REG_FAILED: 208,
  USER_ALREADY_EXIST: 203,
  GROUP_NOT_EXIST: 605,
  GROUP_NOT_JOINED: 602,
  GROUP_ALREADY_JOINED: 601,
  GROUP_MEMBERS_FULL: 606,
  MESSAGE_SIZE_LIMIT: 511,
  MESSAGE_CURRENT_LIMITING: 509,
  MAX_LIMIT: 50,
  OPERATION_NOT_ALLOWED: 54,
  SERVER_BUSY: 302,
  SERVER_UNKNOWN_ERROR: 303,
  // Success, as the vendor reports it.
  REQUEST_SUCCESS: 0,
  ...clientCodes,
} as const;

/** The payload of every error the SDK reports. */
export interface WebIMErrorData {
  /** The server's stable error name (`permission_denied`), when the server reported the error. */
  name?: string;
  /** Anything else that helps: the WebSocket close code, the HTTP status, the cause. */
  [key: string]: unknown;
}

/** The SDK's error: `{ type, message, data }`. It is an `Error`, so it has a stack. */
export class WebIMError extends Error {
  /** The numeric code: a server code or one of {@link clientCodes}. */
  type: number;
  data: WebIMErrorData;

  constructor(type: number, message: string, data: WebIMErrorData = {}) {
    super(message);
    this.name = 'WebIMError';
    this.type = type;
    this.data = data;
  }
}

/** The wire error object of a failed reply (`{"code", "name", "message"}`). */
export interface WireError {
  code?: number;
  name?: string;
  message?: string;
}

/** fromWire turns a server error object into a WebIMError. */
export function fromWire(e: WireError | undefined, extra: WebIMErrorData = {}): WebIMError {
  const name = e?.name ?? 'internal';
  let type = typeof e?.code === 'number' ? e.code : undefined;
  if (type === undefined) type = serverCodes[name as ServerCodeName] ?? serverCodes.internal;
  return new WebIMError(type, e?.message || name, { name, ...extra });
}

/** Shorthand for a client-side error. */
export function clientError(type: number, message: string, data: WebIMErrorData = {}): WebIMError {
  return new WebIMError(type, message, data);
}

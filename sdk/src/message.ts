/**
 * Messages in both API styles, and their conversion to and from the wire.
 *
 * v3: `const m = new WebIM.message('txt', id); m.set({...}); conn.send(m.body)`.
 * v4: `const m = WebIM.message.create({...}); await conn.send(m)`.
 * Incoming messages are delivered in the v4 shape to `addEventHandler` handlers and in the v3
 * ("listen") shape to `listen` handlers.
 */
import { clientCodes, clientError, WebIMError } from './errors';
import { uniqueId } from './ids';
import type { ChatType, WireMessage } from './protocol';
import type { ReceivedMessage, V3ReceivedMessage } from './types';

/** The message types seen sends. */
export type MessageType = 'txt' | 'custom' | 'read' | 'delivery' | 'channel';

/** Message configuration: `allowGroupAck` asks the group's members for read receipts. */
export interface MsgConfig {
  allowGroupAck?: boolean;
  [key: string]: unknown;
}

/**
 * A message body, as built by `new WebIM.message(...).set(...)` or `WebIM.message.create(...)`.
 * For `read` and `delivery`, `id` is the server id of the message acknowledged.
 */
export interface MessageBody {
  id: string;
  type: MessageType | string;
  chatType?: string;
  to: string;
  from?: string;
  msg?: string;
  ext?: Record<string, unknown>;
  msgConfig?: MsgConfig;
  ackContent?: string;
  customEvent?: string;
  customExts?: Record<string, unknown>;
  /** v3 callback: the server stored the message (or accepted the receipt). */
  success?: (localId: string, serverMsgId: string) => void;
  /** v3 callback: the server refused it. */
  fail?: (err: WebIMError) => void;
  time?: number;
  [key: string]: unknown;
}

/** Fields of `WebIM.message.create`. */
export interface CreateOptions extends Partial<MessageBody> {
  type: MessageType;
}

const v3Bodies = new WeakSet<object>();

/** isV3Body reports whether body was built by the v3 `new WebIM.message(...)`. */
export function isV3Body(body: object): boolean {
  return v3Bodies.has(body);
}

/**
 * The v3 message builder. `set` keeps every field given; `body` is what `conn.send` takes, and
 * may be changed after `set` (`m.body.msgConfig = {...}` takes effect).
 */
export class Message {
  id: string;
  type: string;
  body: MessageBody;

  constructor(type: MessageType | string, id?: string | number) {
    this.type = type;
    this.id = id === undefined || id === null ? uniqueId() : String(id);
    this.body = { id: this.id, type, to: '' };
    v3Bodies.add(this.body);
  }

  /** set copies every field of opts into the body (v3 `group: 'groupchat'` means a group chat). */
  set(opts: Partial<MessageBody> & Record<string, unknown>): this {
    Object.assign(this.body, opts);
    this.body.type = this.type;
    if (opts.id !== undefined && opts.id !== null) this.body.id = String(opts.id);
    if (opts.group === 'groupchat' && !opts.chatType) this.body.chatType = 'groupChat';
    return this;
  }

  /** setChatType sets `'singleChat'` or `'groupChat'`; it works on every type, `read` included. */
  setChatType(chatType: string): this {
    this.body.chatType = chatType;
    return this;
  }

  /** setGroup is the v3 spelling of a group chat: `setGroup('groupchat')`. */
  setGroup(group: string): this {
    if (group === 'groupchat') this.body.chatType = 'groupChat';
    return this;
  }

  /** create builds a v4 message. */
  static create(opts: CreateOptions): MessageBody {
    return create(opts);
  }
}

/** create builds a v4 message: a plain object with a local `id` (unless one is given) and `time`. */
export function create(opts: CreateOptions): MessageBody {
  if (!opts || typeof opts.type !== 'string') {
    throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'WebIM.message.create needs a type');
  }
  const m: MessageBody = {
    ...opts,
    id: opts.id === undefined || opts.id === null ? uniqueId() : String(opts.id),
    type: opts.type,
    to: opts.to === undefined || opts.to === null ? '' : String(opts.to),
    chatType: opts.chatType ?? 'singleChat',
    time: opts.time ?? Date.now(),
  };
  if (opts.type === 'txt' || opts.type === 'custom') m.ext = opts.ext ?? {};
  return m;
}

/** normalizeChatType maps every vendor spelling to seen's. */
export function normalizeChatType(ct: unknown, body?: Record<string, unknown>): ChatType {
  const s = typeof ct === 'string' ? ct.toLowerCase() : '';
  if (s === 'groupchat' || s === 'group') return 'groupChat';
  if (!s && body && (body.group === 'groupchat' || body.roomType === false)) return 'groupChat';
  return 'singleChat';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `msg.send` request data for a txt or custom body (only the fields the server knows). */
export function sendRequest(body: MessageBody): Record<string, unknown> {
  if (!body.to) throw clientError(clientCodes.REQUEST_PARAMETER_ERROR, 'the message has no "to"');
  const data: Record<string, unknown> = {
    localId: String(body.id || uniqueId()),
    type: body.type,
    chatType: normalizeChatType(body.chatType, body),
    to: String(body.to),
  };
  if (body.type === 'txt') {
    data.msg = body.msg === undefined || body.msg === null ? '' : String(body.msg);
  } else {
    if (body.customEvent !== undefined) data.customEvent = String(body.customEvent);
    const exts = body.customExts ?? (body as { params?: unknown }).params;
    if (isObject(exts) && Object.keys(exts).length > 0) data.customExts = exts;
  }
  if (isObject(body.ext) && Object.keys(body.ext).length > 0) data.ext = body.ext;
  if (isObject(body.msgConfig) && typeof body.msgConfig.allowGroupAck === 'boolean') {
    data.msgConfig = { allowGroupAck: body.msgConfig.allowGroupAck };
  }
  return data;
}

/** A wire message with the read state the server adds to my single-chat messages (omitted when false). */
type WithReadState = WireMessage & { isRead?: boolean; isDelivered?: boolean };

/**
 * readState is Easemob's `isRead` / `isDelivered` of a message. Given `self` (where the server
 * carries the state: history), a single-chat message that `self` sent always has both (false
 * until the peer's receipt; read implies delivered); otherwise only what the server says.
 */
function readState(m: WithReadState, self?: string): { isRead?: boolean; isDelivered?: boolean } {
  const read = m.isRead === true;
  const delivered = read || m.isDelivered === true;
  if (self && m.chatType === 'singleChat' && m.from === self) return { isRead: read, isDelivered: delivered };
  const out: { isRead?: boolean; isDelivered?: boolean } = {};
  if (read) out.isRead = true;
  if (delivered) out.isDelivered = true;
  return out;
}

/**
 * The v4 shape of an incoming message (`addEventHandler`, history, conversation list). `self`, the
 * logged-in user, gives their own single-chat messages `isRead` / `isDelivered` (for history).
 */
export function toV4(m: WireMessage, self?: string): ReceivedMessage {
  const out: Partial<ReceivedMessage> = {
    id: m.id,
    type: m.type,
    chatType: m.chatType,
    from: m.from,
    to: m.to,
  };
  if (m.type === 'txt') out.msg = m.msg ?? '';
  if (m.type === 'custom') {
    out.customEvent = m.customEvent ?? '';
    out.customExts = m.customExts ?? {};
  }
  out.ext = m.ext ?? {};
  out.time = m.time;
  if (m.msgConfig) out.msgConfig = { ...m.msgConfig };
  if (m.readCount !== undefined) out.readCount = m.readCount;
  Object.assign(out, readState(m, self));
  return out as ReceivedMessage;
}

/** The v3 ("listen") shape of an incoming message: `type` is `'chat'` or `'groupchat'`, `time` a string. */
export function toV3(m: WireMessage, self?: string): V3ReceivedMessage {
  const out: Partial<V3ReceivedMessage> = {
    id: m.id,
    type: m.chatType === 'groupChat' ? 'groupchat' : 'chat',
    from: m.from,
    to: m.to,
  };
  if (m.type === 'txt') out.data = m.msg ?? '';
  if (m.type === 'custom') {
    out.customEvent = m.customEvent ?? '';
    out.customExts = m.customExts ?? {};
    out.params = m.customExts ?? {};
  }
  out.ext = m.ext ?? {};
  out.time = String(m.time);
  if (m.msgConfig) out.msgConfig = { ...m.msgConfig };
  Object.assign(out, readState(m, self));
  return out as V3ReceivedMessage;
}

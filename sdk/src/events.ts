/**
 * Events: the handlers set with `listen` (v3 payloads) and `addEventHandler` (v4 payloads), and
 * emitting one event to all of them. Each style accepts both the v4 and the v3 event names.
 */
import { clientCodes, clientError, WebIMError } from './errors';
import type {
  ChannelAckEvent,
  ConversationReadEvent,
  DeliveryReceiptEvent,
  GroupEvent,
  Handlers,
  ListenHandlers,
  ReadReceiptEvent,
  ReceivedMessage,
  ReconnectingEvent,
  ReminderEvent,
  StatisticEvent,
  V3ChannelAckEvent,
  V3DeliveryReceiptEvent,
  V3GroupEvent,
  V3ReadReceiptEvent,
  V3ReceivedMessage,
  V3ReminderEvent,
} from './types';

/** Every event the SDK fires, with its [v4, v3] payloads. Aliased events have a short key. */
export interface Events {
  connected: [undefined, undefined];
  disconnected: [undefined, undefined];
  group: [GroupEvent, V3GroupEvent];
  onError: [WebIMError, WebIMError];
  onReconnecting: [ReconnectingEvent, ReconnectingEvent];
  onTextMessage: [ReceivedMessage, V3ReceivedMessage];
  onCustomMessage: [ReceivedMessage, V3ReceivedMessage];
  onReadMessage: [ReadReceiptEvent, V3ReadReceiptEvent];
  onDeliveredMessage: [DeliveryReceiptEvent, V3DeliveryReceiptEvent];
  onChannelMessage: [ChannelAckEvent, V3ChannelAckEvent];
  onStatisticMessage: [StatisticEvent, StatisticEvent];
  onConversationRead: [ConversationReadEvent, ConversationReadEvent];
  onReminder: [ReminderEvent, V3ReminderEvent];
}

// Event names with their aliases, v4 name first.
const aliases: Record<string, [string, string]> = {
  connected: ['onConnected', 'onOpened'],
  disconnected: ['onDisconnected', 'onClosed'],
  group: ['onGroupEvent', 'onGroupChange'],
};

/** Emitter holds the app's handlers and calls them. A handler that throws is reported via onError. */
export class Emitter {
  private listenHandlers: ListenHandlers = {};
  private eventHandlers = new Map<string, Handlers>();

  /** listen sets the v3 handlers, replacing those of an earlier call. */
  listen(handlers: ListenHandlers): void {
    this.listenHandlers = { ...handlers };
  }

  /** add adds (or replaces) v4 handlers under id. */
  add(id: string, handlers: Handlers): void {
    this.eventHandlers.set(String(id), { ...handlers });
  }

  /** remove removes the handlers added under id. */
  remove(id: string): void {
    this.eventHandlers.delete(String(id));
  }

  /** emit fires name: the listen handlers get v3, the addEventHandler handlers get v4. */
  emit<K extends keyof Events>(name: K, v4: Events[K][0], v3: Events[K][1]): void {
    const names = aliases[name] ?? [name, name];
    this.call(this.listenHandlers, v3, names[1], names[0]);
    for (const h of [...this.eventHandlers.values()]) this.call(h, v4, names[0], names[1]);
  }

  /** error fires onError with the same error in both styles. */
  error(err: WebIMError): void {
    this.emit('onError', err, err);
  }

  private call(h: Handlers | ListenHandlers, payload: unknown, first: string, second: string): void {
    const fn = (h[first] ?? h[second]) as ((e: unknown) => void) | undefined;
    if (typeof fn !== 'function') return;
    try {
      fn.call(h, payload);
    } catch (err) {
      if (first === 'onError') {
        console.error('seen: an onError handler threw', err);
        return;
      }
      this.error(clientError(clientCodes.WEBIM_CONNCTION_CALLBACK_INNER_ERROR, `the ${first} handler threw: ${String(err)}`, { cause: err }));
    }
  }
}

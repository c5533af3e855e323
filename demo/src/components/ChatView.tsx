import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ReadTracker } from '@seen/webim';
import { clock, fullTime, parseKey, receiptLabel } from '../format';
import {
  atBottom,
  canSeeReceipts,
  counts,
  discard,
  eligible,
  ensureEligible,
  focusMsg,
  groups,
  loadOlder,
  markReadIfSeen,
  me,
  noteAck,
  peerDeliveredUpTo,
  peerReadUpTo,
  reminders,
  retry,
  roleIn,
  sdk,
  threads,
  title,
  trackable,
  type Msg,
} from '../store';
import { dialog } from '../ui';
import { Composer } from './Composer';
import { Bell } from './Bell';

/** How long a receipt-requesting message must be on screen, with the tab visible, to count as read. */
export const dwellMs = 1000;

/** ChatView is one conversation: header, message history (older pages load on scroll) and composer. */
export function ChatView(props: { convKey: string }) {
  const key = props.convKey;
  const p = parseKey(key)!;
  const isGroup = p.chatType === 'groupChat';
  const t = threads.value[key];
  const msgs = t?.messages ?? [];
  const scroller = useRef<HTMLDivElement>(null);
  const tracker = useRef<ReadTracker | null>(null);
  const observed = useRef(new Set<string>());
  const last = useRef({ first: '', last: '', height: 0, count: 0 });
  const [newBelow, setNewBelow] = useState(0);

  // Keep the view where the reader left it: at the bottom for new messages (unless they scrolled
  // up), in place when older messages are added above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = msgs[0]?.id ?? '';
    const lastId = msgs[msgs.length - 1]?.id ?? '';
    const prev = last.current;
    if (prev.count === 0 && msgs.length > 0) {
      el.scrollTop = el.scrollHeight;
    } else if (first !== prev.first && lastId === prev.last) {
      el.scrollTop += el.scrollHeight - prev.height;
    } else if (lastId !== prev.last && msgs.length > prev.count) {
      const newest = msgs[msgs.length - 1];
      if (atBottom.value || newest.from === me.value) el.scrollTop = el.scrollHeight;
      else setNewBelow((n) => n + 1);
    }
    last.current = { first, last: lastId, height: el.scrollHeight, count: msgs.length };
    // A first page that does not fill the view: load more right away.
    if (t?.loadedOnce && !t.isLast && !t.loading && el.scrollHeight <= el.clientHeight + 10) void loadOlder(key);
  });

  // The read tracker watches receipt-requesting messages from others inside this scroller.
  useEffect(() => {
    const root = scroller.current;
    if (!root) return;
    if (!tracker.current) tracker.current = sdk().readTracker({ dwellMs, root, onAck: noteAck });
    for (const m of msgs) {
      if (!trackable(m) || observed.current.has(m.id)) continue;
      const el = root.querySelector(`[data-mid="${m.id}"]`);
      if (!el) continue;
      tracker.current.observe(el, m.raw);
      observed.current.add(m.id);
    }
  });
  // A reminder's "Show": bring its message into view once it is loaded.
  const focus = focusMsg.value;
  useEffect(() => {
    if (!focus) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-mid="${focus}"]`);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    focusMsg.value = null;
  });
  useEffect(() => {
    // Opened from a list that is now hidden (a phone): keyboard focus goes to the composer.
    const a = document.activeElement as HTMLElement | null;
    if (!a || a === document.body || a.offsetParent === null) scroller.current?.closest('.chat')?.querySelector<HTMLElement>('.composer textarea')?.focus();
    return () => tracker.current?.dispose();
  }, []);

  function onScroll() {
    const el = scroller.current!;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (atBottom.value !== bottom) atBottom.value = bottom;
    last.current.height = el.scrollHeight;
    if (bottom) {
      if (newBelow) setNewBelow(0);
      markReadIfSeen();
    }
    if (el.scrollTop < 200) void loadOlder(key);
  }

  const g = isGroup ? groups.value[p.target] : undefined;
  const role = isGroup ? roleIn(p.target) : undefined;
  const headingId = `chat-h-${key}`;

  return (
    <section class="chat" aria-labelledby={headingId}>
      <header class="chat-head">
        <a class="back" href="#/" aria-label="Back to conversations">
          ←
        </a>
        <div class="chat-title">
          <h1 id={headingId}>{title(key)}</h1>
          <p class="chat-sub">
            {isGroup ? (g ? `${g.memberCount} member${g.memberCount === 1 ? '' : 's'}${role ? ` · you are ${role === 'admin' ? 'an admin' : role === 'owner' ? 'the owner' : 'a member'}` : ''}` : 'Group') : 'Direct message'}
          </p>
        </div>
        {isGroup && (
          <button type="button" class="secondary small" onClick={() => (dialog.value = { kind: 'group', groupId: p.target })}>
            Members
          </button>
        )}
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} tabIndex={0} role="log" aria-label={`Messages in ${title(key)}`} aria-relevant="additions">
        <div class="history-top">
          {t?.loading && <p role="status">Loading messages…</p>}
          {t?.error && (
            <p class="error" role="alert">
              {t.error}{' '}
              <button type="button" class="link" onClick={() => void loadOlder(key)}>
                Try again
              </button>
            </p>
          )}
          {t?.loadedOnce && !t.isLast && !t.loading && (
            <button type="button" class="link" onClick={() => void loadOlder(key)}>
              Load older messages
            </button>
          )}
          {t?.loadedOnce && t.isLast && <p class="start">{msgs.length ? 'This is the start of the conversation.' : 'No messages yet.'}</p>}
        </div>
        <ol class="message-list">
          {msgs.map((m, i) => (
            <MessageItem key={m.localId ?? m.id} m={m} convKey={key} showSender={isGroup && (i === 0 || msgs[i - 1].from !== m.from)} />
          ))}
        </ol>
      </div>
      {newBelow > 0 && (
        <button
          type="button"
          class="new-below"
          onClick={() => {
            const el = scroller.current!;
            el.scrollTop = el.scrollHeight;
            setNewBelow(0);
          }}
        >
          {newBelow} new message{newBelow === 1 ? '' : 's'} ↓
        </button>
      )}
      <Composer convKey={key} />
    </section>
  );
}

/** PeerState is what a single-chat peer did with my message: "Seen", else "Delivered", else nothing. */
function PeerState(props: { convKey: string; time: number }) {
  if ((peerReadUpTo.value[props.convKey] ?? 0) >= props.time) return <span class="seen"> · Seen</span>;
  if ((peerDeliveredUpTo.value[props.convKey] ?? 0) >= props.time) return <span class="delivered"> · Delivered</span>;
  return null;
}

function MessageItem(props: { m: Msg; convKey: string; showSender: boolean }) {
  const { m, convKey } = props;
  const mine = m.from === me.value;
  const p = parseKey(convKey)!;
  const reminder = mine ? undefined : reminders.value.find((r) => r.mid === m.id);
  return (
    <li class={`msg ${mine ? 'mine' : 'theirs'}${reminder ? ' reminded' : ''}`} data-mid={m.id} data-status={m.status}>
      <div class="bubble">
        {reminder && (
          <p class="reminded-note" data-testid="reminded-note">
            <Bell /> {reminder.from} reminded you to read this
          </p>
        )}
        {props.showSender && !mine && <p class="sender">{m.from}</p>}
        <p class="text">
          {mine && <span class="sr-only">You: </span>}
          {m.text}
        </p>
        <p class="meta">
          <time dateTime={new Date(m.time).toISOString()} title={fullTime(m.time)}>
            {clock(m.time)}
          </time>
          {m.status === 'sending' && <span class="sending"> · Sending…</span>}
          {mine && m.status === 'sent' && p.chatType === 'singleChat' && <PeerState convKey={convKey} time={m.time} />}
        </p>
        {m.status === 'failed' && (
          <p class="send-error" role="alert">
            {m.error}{' '}
            <button type="button" class="link" onClick={() => retry(convKey, m.localId!)}>
              Retry
            </button>{' '}
            <button type="button" class="link" onClick={() => discard(convKey, m.localId!)}>
              Discard
            </button>
          </p>
        )}
        {m.ack && m.status === 'sent' && <Receipt m={m} mine={mine} groupId={p.target} />}
        {m.ack && m.status === 'sending' && <p class="receipt-note">Read receipts requested</p>}
      </div>
    </li>
  );
}

function Receipt(props: { m: Msg; mine: boolean; groupId: string }) {
  const { m, mine, groupId } = props;
  const openReaders = () => (dialog.value = { kind: 'readers', groupId, mid: m.id, text: m.text, from: m.from });
  const visible = canSeeReceipts(groupId, m.from);
  // Others' messages whose receipts I may see (a notice board): their counts, asked for once.
  useEffect(() => {
    if (visible && !mine) ensureEligible(groupId, m.id);
  }, [visible]);
  if (!visible) return <p class="receipt-note">{m.from} asked for read receipts</p>;
  const n = counts.value[m.id] ?? 0;
  const total = eligible.value[m.id];
  if (!mine && total === undefined) {
    return (
      <button type="button" class="receipt subtle" onClick={openReaders} aria-haspopup="dialog">
        Read receipts
      </button>
    );
  }
  const all = total !== undefined && total > 0 && n >= total;
  return (
    <button type="button" class={`receipt ${all ? 'all' : ''} ${mine ? '' : 'subtle'}`} data-testid="receipt" data-read={n} data-eligible={total ?? ''} data-all={all ? 'true' : undefined} onClick={openReaders} aria-haspopup="dialog">
      <span aria-hidden="true">{all ? '✓✓ ' : '✓ '}</span>
      {receiptLabel(n, total)}
      <span class="sr-only">. Show who has read it.</span>
    </button>
  );
}

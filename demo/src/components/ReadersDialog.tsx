import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReadAnalytics } from '@seen/webim';
import { bucketLabels, codes, errorText, fullTime, reachedText, receiptLabel, remindedNote, remindedText, remindLabel, shortTime, withFirstPage, type ErrorLike } from '../format';
import { canRemind, counts, eligible, noteTotals, remindUnread, sdk, showsLists } from '../store';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';
import { Bell } from './Bell';

interface Reader {
  username: string;
  time: number;
}

interface Unread {
  username: string;
  reminded: number;
  remindedAt: number;
}

/** Readers and unread members are fetched this many at a time, on demand. */
const readPage = 50;
const unreadPage = 50;

interface State {
  loading: boolean;
  error: string;
  /** Newest read first, as the server pages them. */
  readers: Reader[];
  readTotal: number;
  readCursor: string;
  readLast: boolean;
  unread: Unread[];
  unreadTotal: number;
  unreadCursor: string;
  unreadLast: boolean;
}

const empty: State = { loading: true, error: '', readers: [], readTotal: 0, readCursor: '', readLast: true, unread: [], unreadTotal: 0, unreadCursor: '', unreadLast: true };

const toReaders = (users: { username: string; time: number }[] | undefined): Reader[] => (users ?? []).map((u) => ({ username: u.username, time: u.time }));
const toUnread = (users: Unread[] | undefined): Unread[] => (users ?? []).map((u) => ({ username: u.username, reminded: u.reminded, remindedAt: u.remindedAt }));

/**
 * ReadersDialog lists who has read a message (newest first, with times) and who has not yet, both
 * paged: the server hands out readers newest first, a page at a time, as the list is scrolled (or
 * *Show more readers* pressed). When the live count changes it fetches the newest page again. A
 * group that shows counts only gets the totals. Below: the remind button (the sender, owner and
 * admins), and how fast it was read.
 */
export function ReadersDialog(props: { groupId: string; mid: string; text: string; from: string; onClose: () => void }) {
  const { groupId, mid } = props;
  const lists = showsLists(groupId);
  const [version, setVersion] = useState(0);
  const [s, setS] = useState<State>(empty);
  const [moreBusy, setMoreBusy] = useState(false);
  const [readBusy, setReadBusy] = useState(false);
  const latest = useRef(s);
  latest.current = s;
  const loadingMore = useRef(false);
  const moreReadersButton = useRef<HTMLButtonElement>(null);
  const live = counts.value[mid];

  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const c = sdk();
        if (!lists) {
          // Counts only: the group does not show who has read.
          const t = await c.getGroupMsgReadCount({ groupId, msgIds: [mid], withUnread: true });
          if (cancelled) return;
          const read = t.data[mid] ?? 0;
          const unread = t.unread?.[mid] ?? 0;
          noteTotals(mid, read, unread, t.eligible?.[mid]);
          setS((old) => ({ ...old, loading: false, error: '', readers: [], readTotal: read, readLast: true, unread: [], unreadTotal: unread, unreadLast: true }));
          return;
        }
        const [r, u] = await Promise.all([
          c.getGroupMsgReadUser({ msgId: mid, groupId, pageSize: readPage, order: 'desc' }),
          c.getGroupMsgUnreadUser({ msgId: mid, groupId, pageSize: unreadPage }),
        ]);
        if (cancelled) return;
        noteTotals(mid, r.data.total, u.data.total);
        const isLast = r.data.is_last || !r.data.next_key;
        setS((old) => ({
          ...old,
          ...withFirstPage(old, toReaders(r.data.users), r.data.next_key, isLast),
          loading: false,
          error: '',
          readTotal: r.data.total,
          unread: toUnread(u.data.users),
          unreadTotal: u.data.total,
          unreadCursor: u.data.next_key,
          unreadLast: u.data.is_last || !u.data.next_key,
        }));
      } catch (err) {
        if (!cancelled) setS((old) => ({ ...old, loading: false, error: errorText(err, 'Could not load the read receipts') }));
      }
    }, s.loading ? 0 : 300); // live updates: wait for a burst of reads to settle
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [live, lists, version]);

  /** moreReaders fetches the next page of older reads. */
  async function moreReaders() {
    const cur = latest.current;
    if (loadingMore.current || cur.readLast || !cur.readCursor) return;
    loadingMore.current = true;
    setReadBusy(true);
    const cursor = cur.readCursor;
    try {
      const r = await sdk().getGroupMsgReadUser({ msgId: mid, groupId, pageSize: readPage, cursor, order: 'desc' });
      setS((old) => {
        if (old.readCursor !== cursor) return old; // started over meanwhile
        const shown = new Set(old.readers.map((x) => x.username));
        return {
          ...old,
          readers: [...old.readers, ...toReaders(r.data.users).filter((x) => !shown.has(x.username))],
          readTotal: r.data.total,
          readCursor: r.data.next_key,
          readLast: r.data.is_last || !r.data.next_key,
        };
      });
    } catch (err) {
      setS((old) => ({ ...old, error: errorText(err, 'Could not load more readers') }));
    } finally {
      loadingMore.current = false;
      setReadBusy(false);
    }
  }

  // Load older readers as the end of the list scrolls into view.
  useEffect(() => {
    const el = moreReadersButton.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void moreReaders();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [s.readCursor, s.readLast, readBusy]);

  async function moreUnread() {
    setMoreBusy(true);
    try {
      const u = await sdk().getGroupMsgUnreadUser({ msgId: mid, groupId, pageSize: unreadPage, cursor: s.unreadCursor });
      setS((old) => {
        const shown = new Set(old.unread.map((x) => x.username));
        return { ...old, unread: [...old.unread, ...toUnread(u.data.users).filter((x) => !shown.has(x.username))], unreadTotal: u.data.total, unreadCursor: u.data.next_key, unreadLast: u.data.is_last || !u.data.next_key };
      });
    } catch (err) {
      setS((old) => ({ ...old, error: errorText(err, 'Could not load more') }));
    } finally {
      setMoreBusy(false);
    }
  }

  const n = Math.max(live ?? 0, s.readTotal);
  const total = eligible.value[mid];
  const all = !s.loading && total !== undefined && total > 0 && n >= total;
  return (
    <Dialog title="Read receipts" onClose={props.onClose} class="readers">
      <blockquote class="quote">{props.text}</blockquote>
      <p class={`summary ${all ? 'all' : ''}`} role="status" data-testid="readers-summary">
        {all && <span aria-hidden="true">✓✓ </span>}
        {s.loading ? 'Loading…' : receiptLabel(n, total)}
      </p>
      {s.error && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
      {canRemind(groupId, props.from) && !s.loading && <RemindButton groupId={groupId} mid={mid} unread={s.unreadTotal} onDone={() => setVersion((v) => v + 1)} />}
      {lists ? <Lists s={s} readBusy={readBusy} moreBusy={moreBusy} moreReadersButton={moreReadersButton} moreReaders={moreReaders} moreUnread={moreUnread} /> : <p class="hint counts-only">This group shows counts only, not who has read.</p>}
      <Analytics groupId={groupId} mid={mid} live={n} />
    </Dialog>
  );
}

function Lists(props: { s: State; readBusy: boolean; moreBusy: boolean; moreReadersButton: { current: HTMLButtonElement | null }; moreReaders: () => Promise<void>; moreUnread: () => Promise<void> }) {
  const { s, readBusy, moreBusy, moreReaders, moreUnread } = props;
  return (
    <div class="reader-columns" aria-busy={s.loading}>
      <section aria-labelledby="read-h">
        <h3 id="read-h">
          Read <span class="count">{s.readTotal}</span>
        </h3>
        {!s.loading && s.readers.length === 0 && <p class="empty">No one yet.</p>}
        <ol class="people" aria-labelledby="read-h" data-testid="readers">
          {s.readers.map((r) => (
            <li key={r.username}>
              <Avatar name={r.username} size="small" />
              <span class="person">{r.username}</span>
              <time dateTime={new Date(r.time).toISOString()} title={fullTime(r.time)}>
                {shortTime(r.time)}
              </time>
            </li>
          ))}
        </ol>
        {!s.readLast && (
          <button type="button" class="link" ref={props.moreReadersButton} onClick={() => void moreReaders()} disabled={readBusy}>
            {readBusy ? 'Loading…' : `Show more readers (${Math.max(0, s.readTotal - s.readers.length)} more)`}
          </button>
        )}
      </section>
      <section aria-labelledby="unread-h">
        <h3 id="unread-h">
          Not read yet <span class="count">{s.unreadTotal}</span>
        </h3>
        {!s.loading && s.unread.length === 0 && <p class="empty">Everyone has read it.</p>}
        <ul class="people" aria-labelledby="unread-h" data-testid="unread-users">
          {s.unread.map((u) => (
            <li key={u.username}>
              <Avatar name={u.username} size="small" />
              <span class="person">{u.username}</span>
              {u.reminded > 0 && (
                <span class="reminded" title={fullTime(u.remindedAt)}>
                  {remindedNote(u.reminded, u.remindedAt)}
                </span>
              )}
            </li>
          ))}
        </ul>
        {!s.unreadLast && (
          <button type="button" class="link" onClick={() => void moreUnread()} disabled={moreBusy}>
            Show more ({s.unreadTotal - s.unread.length} more)
          </button>
        )}
      </section>
    </div>
  );
}

/** RemindButton reminds everyone who has not read it: "Remind 12 who haven't read". */
function RemindButton(props: { groupId: string; mid: string; unread: number; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [nextAt, setNextAt] = useState(0);
  const waiting = nextAt > Date.now();
  useEffect(() => {
    if (!waiting) return;
    const t = setTimeout(() => setNextAt(0), Math.min(nextAt - Date.now(), 2 ** 31 - 1));
    return () => clearTimeout(t);
  }, [nextAt]);

  async function remind() {
    setBusy(true);
    setNote(null);
    try {
      const r = await remindUnread(props.groupId, props.mid);
      setNote({ kind: 'ok', text: remindedText(r) });
      setNextAt(r.nextAt);
      props.onDone();
    } catch (err) {
      const e = err as ErrorLike;
      setNote({ kind: 'error', text: e?.type === codes.limitExceeded ? errorText(err) : errorText(err, 'Could not remind') });
    } finally {
      setBusy(false);
    }
  }

  if (props.unread === 0 && !note) return null;
  return (
    <div class="remind">
      {props.unread > 0 && (
        <button type="button" onClick={() => void remind()} disabled={busy || waiting} data-testid="remind">
          <Bell /> {busy ? 'Reminding…' : remindLabel(props.unread)}
        </button>
      )}
      {note && (
        <p class={note.kind === 'error' ? 'error' : 'hint'} role={note.kind === 'error' ? 'alert' : 'status'} data-testid="remind-note">
          {note.text}
        </p>
      )}
    </div>
  );
}

/** Analytics shows how fast a message was read: time to 50%, 90% and all, and the distribution. */
function Analytics(props: { groupId: string; mid: string; live: number }) {
  const [a, setA] = useState<ReadAnalytics | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const r = await sdk().getGroupMsgReadAnalytics({ groupId: props.groupId, msgId: props.mid });
        if (!cancelled) {
          setA(r.data);
          setError('');
        }
      } catch (err) {
        if (!cancelled) setError(errorText(err, 'Could not load the read times'));
      }
    }, a ? 300 : 0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [props.live]);

  if (error) return <p class="hint">{error}</p>;
  if (!a) return null;
  const max = Math.max(1, ...a.histogram.map((b) => b.count));
  const labels = bucketLabels(a.histogram);
  return (
    <section class="analytics" aria-labelledby="ttr-h" data-testid="analytics">
      <h3 id="ttr-h">Time to read</h3>
      <dl class="milestones">
        <div>
          <dt>Half read</dt>
          <dd data-testid="to50">{reachedText(a.to50)}</dd>
        </div>
        <div>
          <dt>90% read</dt>
          <dd data-testid="to90">{reachedText(a.to90)}</dd>
        </div>
        <div>
          <dt>All read</dt>
          <dd data-testid="toAll">{reachedText(a.toAll)}</dd>
        </div>
      </dl>
      <p class="hint">
        Of {a.eligible} who could read it when it was sent; sent {shortTime(a.sentAt)}.
      </p>
      {a.count > 0 && (
        <table class="histogram" data-testid="histogram">
          <caption class="sr-only">Reads by time after sending</caption>
          <tbody>
            {a.histogram.map((b, i) => (
              <tr key={i}>
                <th scope="row">{labels[i]}</th>
                <td>
                  <span class="bar" style={{ width: `${(100 * b.count) / max}%` }} aria-hidden="true" />
                  <span class="n">{b.count}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, fullTime, receiptLabel, shortTime, withFirstPage } from '../format';
import { counts, eligible, noteTotals, sdk } from '../store';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';

interface Reader {
  username: string;
  time: number;
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
  unread: string[];
  unreadTotal: number;
  unreadCursor: string;
  unreadLast: boolean;
}

const empty: State = { loading: true, error: '', readers: [], readTotal: 0, readCursor: '', readLast: true, unread: [], unreadTotal: 0, unreadCursor: '', unreadLast: true };

const toReaders = (users: { username: string; time: number }[] | undefined): Reader[] => (users ?? []).map((u) => ({ username: u.username, time: u.time }));

/**
 * ReadersDialog lists who has read a message (newest first, with times) and who has not yet, both
 * paged: the server hands out readers newest first, a page at a time, as the list is scrolled (or
 * *Show more readers* pressed). When the live count changes it fetches the newest page again.
 */
export function ReadersDialog(props: { groupId: string; mid: string; text: string; mine: boolean; onClose: () => void }) {
  const { groupId, mid } = props;
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
          unread: u.data.userlist,
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
  }, [live]);

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
      setS((old) => ({ ...old, unread: [...old.unread, ...u.data.userlist.filter((x) => !old.unread.includes(x))], unreadTotal: u.data.total, unreadCursor: u.data.next_key, unreadLast: u.data.is_last || !u.data.next_key }));
    } catch (err) {
      setS((old) => ({ ...old, error: errorText(err, 'Could not load more') }));
    } finally {
      setMoreBusy(false);
    }
  }

  const n = Math.max(live ?? 0, s.readTotal);
  const total = eligible.value[mid];
  return (
    <Dialog title="Read receipts" onClose={props.onClose} class="readers">
      <blockquote class="quote">{props.text}</blockquote>
      <p class="summary" role="status">
        {s.loading ? 'Loading…' : receiptLabel(n, total)}
      </p>
      {s.error && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
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
            <button type="button" class="link" ref={moreReadersButton} onClick={() => void moreReaders()} disabled={readBusy}>
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
              <li key={u}>
                <Avatar name={u} size="small" />
                <span class="person">{u}</span>
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
    </Dialog>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { errorText, fullTime, receiptLabel, shortTime } from '../format';
import { counts, eligible, noteTotals, sdk } from '../store';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';

interface Reader {
  username: string;
  time: number;
}

/** Readers are fetched in pages this big and shown this many at a time. */
const fetchPage = 500;
const showPage = 50;
const unreadPage = 50;

interface State {
  loading: boolean;
  error: string;
  readers: Reader[];
  readTotal: number;
  unread: string[];
  unreadTotal: number;
  unreadCursor: string;
  unreadLast: boolean;
}

const empty: State = { loading: true, error: '', readers: [], readTotal: 0, unread: [], unreadTotal: 0, unreadCursor: '', unreadLast: true };

/**
 * ReadersDialog lists who has read a message (newest first, with times) and who has not yet, both
 * paged. It reloads when the live count changes.
 */
export function ReadersDialog(props: { groupId: string; mid: string; text: string; mine: boolean; onClose: () => void }) {
  const { groupId, mid } = props;
  const [s, setS] = useState<State>(empty);
  const [shown, setShown] = useState(showPage);
  const [moreBusy, setMoreBusy] = useState(false);
  const live = counts.value[mid];

  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const c = sdk();
        // The server pages readers oldest first; fetch them all (500 a page) to show the newest first.
        const readers: Reader[] = [];
        let cursor = '';
        let readTotal = 0;
        for (let i = 0; i < 40; i++) {
          const r = await c.getGroupMsgReadUser({ msgId: mid, groupId, pageSize: fetchPage, cursor: cursor || undefined });
          readTotal = r.data.total;
          for (const u of r.data.users ?? []) readers.push({ username: u.username, time: u.time });
          cursor = r.data.next_key;
          if (r.data.is_last || !cursor) break;
        }
        const u = await c.getGroupMsgUnreadUser({ msgId: mid, groupId, pageSize: unreadPage });
        if (cancelled) return;
        readers.sort((a, b) => b.time - a.time || a.username.localeCompare(b.username));
        noteTotals(mid, readTotal, u.data.total);
        setS({ loading: false, error: '', readers, readTotal, unread: u.data.userlist, unreadTotal: u.data.total, unreadCursor: u.data.next_key, unreadLast: u.data.is_last || !u.data.next_key });
      } catch (err) {
        if (!cancelled) setS((old) => ({ ...old, loading: false, error: errorText(err, 'Could not load the read receipts') }));
      }
    }, s.loading ? 0 : 300); // live updates: wait for a burst of reads to settle
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [live]);

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
            {s.readers.slice(0, shown).map((r) => (
              <li key={r.username}>
                <Avatar name={r.username} size="small" />
                <span class="person">{r.username}</span>
                <time dateTime={new Date(r.time).toISOString()} title={fullTime(r.time)}>
                  {shortTime(r.time)}
                </time>
              </li>
            ))}
          </ol>
          {s.readers.length > shown && (
            <button type="button" class="link" onClick={() => setShown(shown + showPage)}>
              Show more readers ({s.readers.length - shown} more)
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

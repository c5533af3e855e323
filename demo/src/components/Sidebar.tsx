import { byTime, convKey, keyToHash, shortTime } from '../format';
import { awayReads, convs, convsLoaded, current, me, reminders, title, type Conv } from '../store';
import { dialog } from '../ui';
import { Avatar } from './Avatar';
import { Bell } from './Bell';

function preview(c: Conv): string {
  const m = c.last;
  if (!m) return c.chatType === 'groupChat' ? 'No messages yet' : 'Say hello';
  const who = m.from === me.value ? 'You' : c.chatType === 'groupChat' ? m.from : '';
  return (who ? `${who}: ` : '') + m.text;
}

/** Sidebar lists the conversations, newest first, with unread badges. */
export function Sidebar() {
  const list = Object.values(convs.value).sort((a, b) => {
    if (a.last && b.last) return byTime(b.last, a.last);
    if (a.last) return -1;
    if (b.last) return 1;
    return title(a.key).localeCompare(title(b.key));
  });
  return (
    <nav class="sidebar" aria-labelledby="convs-h">
      <div class="sidebar-head">
        <h2 id="convs-h">Conversations</h2>
        <div class="sidebar-actions">
          <button type="button" class="small" onClick={() => (dialog.value = { kind: 'newChat' })}>
            New chat
          </button>
          <button type="button" class="small" onClick={() => (dialog.value = { kind: 'newGroup' })}>
            New group
          </button>
        </div>
      </div>
      {convsLoaded.value && list.length === 0 && <p class="empty">No conversations yet. Start a chat or create a group.</p>}
      {!convsLoaded.value && list.length === 0 && (
        <p class="empty" role="status">
          Loading…
        </p>
      )}
      <ul class="conv-list">
        {list.map((c) => {
          const name = title(c.key);
          const unread = c.key === current.value ? 0 : c.unread;
          const away = awayReads.value[c.key];
          const reminded = reminders.value.some((r) => c.key === convKey('groupChat', r.groupId));
          return (
            <li key={c.key}>
              <a class="conv" href={keyToHash(c.key)} aria-current={c.key === current.value ? 'page' : undefined} data-conv={c.key}>
                <Avatar name={name} group={c.chatType === 'groupChat'} />
                <span class="conv-main">
                  <span class="conv-top">
                    <span class="conv-name">
                      {name}
                      {c.chatType === 'groupChat' && <span class="sr-only"> (group)</span>}
                    </span>
                    {c.last && <time dateTime={new Date(c.last.time).toISOString()}>{shortTime(c.last.time)}</time>}
                  </span>
                  <span class="conv-bottom">
                    <span class="conv-preview">{preview(c)}</span>
                    {reminded && (
                      <span class="conv-reminded" data-testid="conv-reminded">
                        <Bell />
                        <span class="sr-only"> reminder to read</span>
                      </span>
                    )}
                    {away ? (
                      <span class="away-reads" title="New reads while you were away">
                        ✓ new reads
                      </span>
                    ) : null}
                    {unread > 0 && (
                      <span class="badge" data-testid="unread">
                        {unread}
                        <span class="sr-only"> unread</span>
                      </span>
                    )}
                  </span>
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

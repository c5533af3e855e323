import { shortTime } from '../format';
import { convs, dismissReminder, reminders, showReminded, threads, title, type Reminder } from '../store';
import { convKey } from '../format';
import { Bell } from './Bell';

/** preview quotes the message of a reminder when it is loaded (its history, or the group's last message). */
function preview(r: Reminder): string {
  const key = convKey('groupChat', r.groupId);
  const last = convs.value[key]?.last;
  const m = threads.value[key]?.messages.find((x) => x.id === r.mid) ?? (last?.id === r.mid ? last : undefined);
  return m ? `“${m.text.length > 80 ? m.text.slice(0, 79) + '…' : m.text}”` : 'a message';
}

/**
 * Reminders shows, on top of everything, the reminders to read: who asked, which message, in
 * which group, with a button to go there. Each goes away once that message has been read (the read
 * tracker acknowledged it) or is dismissed.
 */
export function Reminders() {
  const list = reminders.value;
  if (!list.length) return null;
  return (
    <section class="reminders" aria-label="Reminders" data-testid="reminders">
      {list.map((r) => (
        <div key={r.mid} class="reminder" role="alert" data-mid={r.mid}>
          <Bell />
          <p>
            <strong>{r.from}</strong> reminded you to read {preview(r)} in <strong>{title(convKey('groupChat', r.groupId))}</strong>
            {r.times > 1 ? ` (${r.times} times)` : ''} · <time dateTime={new Date(r.time).toISOString()}>{shortTime(r.time)}</time>
          </p>
          <button type="button" class="small" onClick={() => showReminded(r)}>
            Show
          </button>
          <button type="button" class="icon-button" aria-label="Dismiss reminder" onClick={() => dismissReminder(r.mid)}>
            ×
          </button>
        </div>
      ))}
    </section>
  );
}

import { useState } from 'preact/hooks';
import { errorText } from '../format';
import { setSendReadReceipts, settings, settingsError } from '../store';
import { Dialog } from './Dialog';

/** SettingsDialog holds my own settings: the read-receipt privacy switch. */
export function SettingsDialog(props: { onClose: () => void }) {
  const s = settings.value;
  // The value being saved, shown at once (the switch does not flip back while the server answers).
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState('');
  const on = pending ?? s?.sendReadReceipts ?? true;

  async function toggle(want: boolean) {
    setPending(want);
    setError('');
    try {
      await setSendReadReceipts(want);
    } catch (err) {
      setError(errorText(err, 'Could not save'));
    } finally {
      setPending(null);
    }
  }

  return (
    <Dialog title="Settings" onClose={props.onClose} class="settings">
      {!s && !settingsError.value && <p role="status">Loading…</p>}
      {settingsError.value && (
        <p class="error" role="alert">
          {settingsError.value}
        </p>
      )}
      {s && (
        <div class="switch-row">
          <input id="send-receipts" type="checkbox" role="switch" checked={on} disabled={pending !== null} onChange={(e) => void toggle(e.currentTarget.checked)} aria-describedby="send-receipts-hint" />
          <label for="send-receipts">Send read receipts</label>
          <p id="send-receipts-hint" class="hint">
            {on
              ? 'When you read a message that asks for read receipts, its sender can see that you read it.'
              : 'Off: your reads are not reported. You are left out of “read by” counts and lists, nobody can remind you, and people in single chats do not see when you read their messages. You still see who read your own messages. Reads already reported stay reported.'}
          </p>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}

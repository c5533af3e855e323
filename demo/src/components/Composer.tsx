import { useEffect, useRef, useState } from 'preact/hooks';
import { parseKey } from '../format';
import { canRequest, groups, roleIn, send, title } from '../store';

/** The longest message the composer accepts (the server has its own limit and says so). */
const maxLength = 4000;

/** Composer writes and sends a message; in a group, owners and admins can ask for read receipts. */
export function Composer(props: { convKey: string }) {
  const key = props.convKey;
  const p = parseKey(key)!;
  const isGroup = p.chatType === 'groupChat';
  const [text, setText] = useState('');
  const [ack, setAck] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  void groups.value; // re-render when roles change
  const role = isGroup ? roleIn(p.target) : undefined;
  const allowed = isGroup && canRequest(p.target);

  useEffect(() => {
    if (!allowed && ack) setAck(false);
  }, [allowed]);

  function submit() {
    const body = text.trim();
    if (!body) return;
    send(key, body, ack && allowed);
    setText('');
    setAck(false);
    area.current?.focus();
  }

  const hintId = `ack-hint-${key}`;
  return (
    <form
      class="composer"
      aria-label="Write a message"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label for={`compose-${key}`} class="sr-only">
        Message to {title(key)}
      </label>
      <textarea
        id={`compose-${key}`}
        ref={area}
        rows={2}
        maxLength={maxLength}
        placeholder={`Message ${title(key)}`}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
        aria-describedby={`compose-help-${key}`}
      />
      <p id={`compose-help-${key}`} class="sr-only">
        Enter sends; Shift+Enter starts a new line.
      </p>
      <div class="composer-row">
        {isGroup && (
          <div class="ack-option">
            <input id={`ack-${key}`} type="checkbox" checked={ack && allowed} disabled={!allowed} onChange={(e) => setAck(e.currentTarget.checked)} aria-describedby={hintId} />
            <label for={`ack-${key}`}>Request read receipts</label>
            <span id={hintId} class="hint">
              {role === undefined ? 'Checking your role…' : allowed ? 'Members’ reads are counted once they have seen it.' : 'Only the group owner and admins can request read receipts.'}
            </span>
          </div>
        )}
        <button type="submit" disabled={!text.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}

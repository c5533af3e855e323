import { browserOnline, connState, dismissToast, reconnect, toasts } from '../store';

/** ConnectionStatus says whether messages go out now; it is announced when it changes. */
export function ConnectionStatus() {
  let text = 'Online';
  let state = 'online';
  if (!browserOnline.value) {
    text = 'No network. Messages you send go out when it is back.';
    state = 'offline';
  } else if (connState.value === 'reconnecting') {
    const r = reconnect.value;
    text = `Connection lost. Reconnecting${r && r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}… Messages you send go out once it is back.`;
    state = 'reconnecting';
  }
  return (
    <p class={`conn-status ${state}`} role="status" data-state={state}>
      <span class="dot" aria-hidden="true" />
      <span class="conn-text">{text}</span>
    </p>
  );
}

/** Toasts shows notices and errors; errors are alerts, notices polite. */
export function Toasts() {
  return (
    <section class="toasts" aria-label="Notifications">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <p>{t.text}</p>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </section>
  );
}

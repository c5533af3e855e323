import { bootError, current, logout, me, phase, resume } from '../store';
import { dialog } from '../ui';
import { ChatView } from './ChatView';
import { GroupDialog } from './GroupDialog';
import { Login } from './Login';
import { NewChatDialog, NewGroupDialog } from './NewDialogs';
import { ReadersDialog } from './ReadersDialog';
import { Reminders } from './Reminders';
import { SettingsDialog } from './Settings';
import { Sidebar } from './Sidebar';
import { ConnectionStatus, Toasts } from './Status';

/** App switches between the login form and the chat. */
export function App() {
  switch (phase.value) {
    case 'noSdk':
      return (
        <main class="center-page">
          <h1>seen</h1>
          <p role="alert" class="error">
            The Web SDK did not load from <code>/sdk/webim.js</code>. Is this page served by seen?
          </p>
        </main>
      );
    case 'boot':
      return (
        <main class="center-page" aria-busy="true">
          <h1>seen</h1>
          <p role="status">Connecting…</p>
        </main>
      );
    case 'bootError':
      return (
        <main class="center-page">
          <h1>seen</h1>
          <p role="alert" class="error">
            {bootError.value}
          </p>
          <p class="actions">
            <button type="button" onClick={() => void resume()}>
              Try again
            </button>
            <button type="button" class="secondary" onClick={() => void logout()}>
              Log out
            </button>
          </p>
        </main>
      );
    case 'login':
      return <Login />;
    default:
      return <Shell />;
  }
}

function Shell() {
  const d = dialog.value;
  const close = () => (dialog.value = null);
  return (
    <div class="shell" data-view={current.value ? 'chat' : 'list'}>
      <a class="skip-link" href="#chat">
        Skip to the conversation
      </a>
      <header class="topbar">
        <span class="brand" aria-label="seen">
          seen
        </span>
        <ConnectionStatus />
        <div class="whoami">
          <span>
            <span class="signed-in-as">Signed in as </span>
            <strong data-testid="me">{me.value}</strong>
          </span>
          <button type="button" class="secondary small" onClick={() => (dialog.value = { kind: 'settings' })}>
            Settings
          </button>
          <button type="button" class="secondary small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <Reminders />
      <div class="panes">
        <Sidebar />
        <main id="chat" class="chat-pane" tabIndex={-1}>
          {current.value ? <ChatView key={current.value} convKey={current.value} /> : <Welcome />}
        </main>
      </div>
      <Toasts />
      {d?.kind === 'newChat' && <NewChatDialog onClose={close} />}
      {d?.kind === 'newGroup' && <NewGroupDialog onClose={close} />}
      {d?.kind === 'group' && <GroupDialog groupId={d.groupId} onClose={close} />}
      {d?.kind === 'readers' && <ReadersDialog {...d} onClose={close} />}
      {d?.kind === 'settings' && <SettingsDialog onClose={close} />}
    </div>
  );
}

function Welcome() {
  return (
    <section class="welcome" aria-labelledby="welcome-h">
      <h1 id="welcome-h">Group chat that knows who has read what</h1>
      <p>Pick a conversation, or start a new chat or group.</p>
      <ul>
        <li>
          As a group's owner or admin, tick <em>Request read receipts</em> before you send. The message then shows{' '}
          <em>Read by N of M</em>, live, and who has read it and who has not.
        </li>
        <li>A message counts as read only once it has really been on someone's screen.</li>
        <li>Reads that happen while you are away are there when you come back.</li>
        <li>Remind the people who have not read a message yet; reminders reach them even if they were offline.</li>
      </ul>
    </section>
  );
}

import { useState } from 'preact/hooks';
import { codes, errorText, parseUsernames, usernameProblem } from '../format';
import { checkUser, createGroup, me, startChat } from '../store';
import { Dialog } from './Dialog';

/** NewChatDialog opens a direct conversation with a user, once the server knows them. */
export function NewChatDialog(props: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="New chat" onClose={props.onClose}>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          const user = name.trim().toLowerCase().replace(/^@/, '');
          const problem = usernameProblem(user) || (user === me.value ? 'That is you. Pick someone else.' : '');
          if (problem) return setError(problem);
          setBusy(true);
          setError('');
          try {
            await checkUser(user);
          } catch (err) {
            const e = err as { type?: number };
            setError(e?.type === codes.userNotFound ? `There is no user “${user}”. Check the spelling.` : errorText(err, 'Could not start the chat'));
            setBusy(false);
            return;
          }
          props.onClose();
          startChat(user);
        }}
      >
        <label for="chat-with">Username</label>
        <input id="chat-with" value={name} onInput={(e) => setName(e.currentTarget.value)} autocapitalize="none" spellcheck={false} required autofocus />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>
            Start chat
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** NewGroupDialog creates a group; the creator is its owner. */
export function NewGroupDialog(props: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="New group" onClose={props.onClose}>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          const groupName = name.trim();
          if (!groupName) return setError('Give the group a name.');
          const users = parseUsernames(members).filter((u) => u !== me.value);
          const bad = users.map(usernameProblem).find(Boolean);
          if (bad) return setError(bad);
          setBusy(true);
          setError('');
          try {
            await createGroup(groupName, users);
            props.onClose();
          } catch (err) {
            setError(errorText(err, 'Could not create the group'));
            setBusy(false);
          }
        }}
      >
        <label for="group-name">Group name</label>
        <input id="group-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={128} autofocus />
        <label for="group-members">Members</label>
        <input id="group-members" value={members} onInput={(e) => setMembers(e.currentTarget.value)} placeholder="bob, carol" autocapitalize="none" spellcheck={false} aria-describedby="group-members-hint" />
        <p id="group-members-hint" class="hint">
          Usernames, separated by commas or spaces. You can add more later.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create group
          </button>
        </div>
      </form>
    </Dialog>
  );
}

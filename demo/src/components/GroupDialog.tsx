import { useEffect, useState } from 'preact/hooks';
import { errorText, parseUsernames, usernameProblem } from '../format';
import type { ReceiptPolicy } from '@seen/webim';
import { groupAction, groups, leaveGroup, loadGroup, me, roleIn, sdk, setGroupPolicy, toast, type Role } from '../store';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';

interface Member {
  username: string;
  role: Role;
}

const pageSize = 50;

/** GroupDialog shows a group's members; owners and admins add and remove them, owners appoint admins. */
export function GroupDialog(props: { groupId: string; onClose: () => void }) {
  const gid = props.groupId;
  const g = groups.value[gid];
  const myRole = roleIn(gid);
  const [members, setMembers] = useState<Member[]>([]);
  const [cursor, setCursor] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [adding, setAdding] = useState('');
  const [confirming, setConfirming] = useState(false);

  async function load(from = '') {
    setLoading(true);
    try {
      const r = await sdk().getGroupMembers({ groupId: gid, cursor: from || undefined, limit: pageSize });
      const page = r.data.members.map((m) => ({ username: m.username, role: m.role }));
      setMembers((old) => (from ? [...old, ...page.filter((m) => !old.some((o) => o.username === m.username))] : page));
      setCursor(r.data.cursor);
      setError('');
    } catch (err) {
      setError(errorText(err, 'Could not load the members'));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load();
  }, [gid, g?.owner, g?.admins.join(','), g?.memberCount]);
  // The receipt policy may have changed since the group was loaded: there is no push for it.
  useEffect(() => {
    void loadGroup(gid);
  }, [gid]);

  async function act(what: 'add' | 'remove' | 'admin' | 'unadmin', users: string[], done: string) {
    setBusy(true);
    setError('');
    try {
      await groupAction(gid, what, users);
      toast('info', done);
      await load();
      return true;
    } catch (err) {
      setError(errorText(err, 'That did not work'));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function add(e: Event) {
    e.preventDefault();
    const users = parseUsernames(adding);
    if (!users.length) return setError('Enter one or more usernames.');
    const bad = users.map(usernameProblem).find(Boolean);
    if (bad) return setError(bad);
    if (await act('add', users, `Added ${users.join(', ')}.`)) setAdding('');
  }

  async function leave() {
    setBusy(true);
    try {
      await leaveGroup(gid, myRole === 'owner');
      props.onClose();
    } catch (err) {
      setError(errorText(err, myRole === 'owner' ? 'Could not delete the group' : 'Could not leave the group'));
      setBusy(false);
    }
  }

  const manager = myRole === 'owner' || myRole === 'admin';
  return (
    <Dialog title={g ? `Members of ${g.name}` : 'Members'} onClose={props.onClose} class="group-dialog">
      <p class="hint">
        {g ? `${g.memberCount} member${g.memberCount === 1 ? '' : 's'}. ` : ''}
        {myRole === 'owner' && 'You own this group: you can add and remove members and appoint admins.'}
        {myRole === 'admin' && 'You are an admin: you can add and remove members.'}
        {myRole === 'member' && 'The owner and admins manage the members.'}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {manager && (
        <form class="inline-form" onSubmit={add}>
          <label for="add-members">Add members</label>
          <div class="row">
            <input id="add-members" value={adding} onInput={(e) => setAdding(e.currentTarget.value)} placeholder="bob, carol" autocapitalize="none" spellcheck={false} aria-describedby="add-hint" />
            <button type="submit" disabled={busy}>
              Add
            </button>
          </div>
          <p id="add-hint" class="hint">
            Usernames, separated by commas or spaces.
          </p>
        </form>
      )}
      <PolicySection gid={gid} policy={g?.policy} manager={manager} />
      <ul class="people members" aria-label="Members" aria-busy={loading}>
        {members.map((m) => (
          <li key={m.username} data-member={m.username}>
            <Avatar name={m.username} size="small" />
            <span class="person">
              {m.username}
              {m.username === me.value && ' (you)'}
            </span>
            {m.role !== 'member' && <span class={`role ${m.role}`}>{m.role}</span>}
            <span class="member-actions">
              {myRole === 'owner' && m.role === 'member' && (
                <button type="button" class="small secondary" disabled={busy} onClick={() => void act('admin', [m.username], `${m.username} is now an admin.`)}>
                  Make admin
                </button>
              )}
              {myRole === 'owner' && m.role === 'admin' && (
                <button type="button" class="small secondary" disabled={busy} onClick={() => void act('unadmin', [m.username], `${m.username} is no longer an admin.`)}>
                  Remove admin
                </button>
              )}
              {manager && m.username !== me.value && m.role !== 'owner' && (myRole === 'owner' || m.role === 'member') && (
                <button type="button" class="small danger" disabled={busy} onClick={() => void act('remove', [m.username], `Removed ${m.username}.`)} aria-label={`Remove ${m.username} from the group`}>
                  Remove
                </button>
              )}
            </span>
          </li>
        ))}
      </ul>
      {loading && <p role="status">Loading members…</p>}
      {cursor && !loading && (
        <button type="button" class="link" onClick={() => void load(cursor)}>
          Show more members
        </button>
      )}
      <footer class="dialog-foot">
        {!confirming ? (
          <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={busy || !myRole}>
            {myRole === 'owner' ? 'Delete group' : 'Leave group'}
          </button>
        ) : (
          <p class="confirm" role="group" aria-label="Confirm">
            {myRole === 'owner' ? 'Delete the group for everyone?' : 'Leave this group?'}{' '}
            <button type="button" class="danger" onClick={() => void leave()} disabled={busy}>
              {myRole === 'owner' ? 'Yes, delete it' : 'Yes, leave'}
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </p>
        )}
      </footer>
    </Dialog>
  );
}

const requestText: Record<ReceiptPolicy['request'], string> = { admins: 'The owner and admins', all: 'Every member' };
const visibilityText: Record<ReceiptPolicy['visibility'], string> = { sender: 'Only the sender', admins: 'The sender, the owner and admins', members: 'Every member' };

/**
 * PolicySection is the group's receipt policy: who may ask for read receipts, who sees them, and
 * whether the lists of who has read are shown or only the counts. The owner and admins change it.
 */
function PolicySection(props: { gid: string; policy: ReceiptPolicy | undefined; manager: boolean }) {
  const { gid, manager } = props;
  // The change being saved, shown at once (the controls do not flip back while the server answers).
  const [pending, setPending] = useState<Partial<ReceiptPolicy> | null>(null);
  const [error, setError] = useState('');
  if (!props.policy) return null;
  const policy: ReceiptPolicy = { ...props.policy, ...pending };

  async function change(update: Partial<ReceiptPolicy>) {
    setPending(update);
    setError('');
    try {
      await setGroupPolicy(gid, update);
      toast('info', 'Receipt policy saved.');
    } catch (err) {
      setError(errorText(err, 'Could not change the receipt policy'));
    } finally {
      setPending(null);
    }
  }

  if (!manager) {
    return (
      <section class="policy" aria-labelledby="policy-h" data-testid="policy">
        <h3 id="policy-h">Read receipts</h3>
        <dl>
          <dt>Who can ask for them</dt>
          <dd>{requestText[policy.request]}</dd>
          <dt>Who sees them</dt>
          <dd>{visibilityText[policy.visibility]}</dd>
          <dt>What is shown</dt>
          <dd>{policy.lists ? 'Who has read, and who has not' : 'Counts only'}</dd>
        </dl>
      </section>
    );
  }
  return (
    <fieldset class="policy" data-testid="policy" disabled={pending !== null}>
      <legend>Read receipts</legend>
      <label for="policy-request">Who can ask for them</label>
      <select id="policy-request" value={policy.request} onChange={(e) => void change({ request: e.currentTarget.value as ReceiptPolicy['request'] })}>
        {Object.entries(requestText).map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
      <label for="policy-visibility">Who sees them</label>
      <select id="policy-visibility" value={policy.visibility} onChange={(e) => void change({ visibility: e.currentTarget.value as ReceiptPolicy['visibility'] })}>
        {Object.entries(visibilityText).map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
      <div class="check">
        <input id="policy-lists" type="checkbox" checked={policy.lists} onChange={(e) => void change({ lists: e.currentTarget.checked })} />
        <label for="policy-lists">Show who has read (otherwise counts only)</label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

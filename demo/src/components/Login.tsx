import { useState } from 'preact/hooks';
import { errorText, usernameProblem } from '../format';
import { login, loginNotice, register } from '../store';

/** Login is the log-in / create-account form. */
export function Login() {
  const [user, setUser] = useState('');
  const [pwd, setPwd] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(mode: 'login' | 'register') {
    const name = user.trim().toLowerCase();
    const problem = usernameProblem(name);
    if (problem) return setError(problem);
    if (!pwd) return setError('Enter a password.');
    setBusy(true);
    setError('');
    try {
      if (mode === 'register') await register(name, pwd);
      else await login(name, pwd);
    } catch (err) {
      setError(errorText(err, mode === 'register' ? 'Could not create the account' : 'Could not log in'));
      setBusy(false);
    }
  }

  return (
    <main class="center-page login">
      <h1>
        <span class="brand big">seen</span>
      </h1>
      <p class="tagline">Group chat with read receipts that mean something.</p>
      <form
        class="card"
        aria-labelledby="login-h"
        onSubmit={(e) => {
          e.preventDefault();
          const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
          void submit(submitter?.value === 'register' ? 'register' : 'login');
        }}
        aria-busy={busy}
      >
        <h2 id="login-h">Log in or create an account</h2>
        {loginNotice.value && (
          <p class="notice" role="status">
            {loginNotice.value}
          </p>
        )}
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          maxLength={64}
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
          aria-describedby="username-hint"
        />
        <p id="username-hint" class="hint">
          Lower-case letters, digits, and _ - .
        </p>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={pwd} onInput={(e) => setPwd(e.currentTarget.value)} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" value="login" disabled={busy}>
            Log in
          </button>
          <button type="submit" value="register" class="secondary" disabled={busy}>
            Create account
          </button>
        </div>
      </form>
    </main>
  );
}

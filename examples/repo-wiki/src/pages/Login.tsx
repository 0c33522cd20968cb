import { type FormEvent, useState } from 'react';
import { api } from '../api';
import type { User } from '../types';

/** Demo login (demo/demo sees everything; guest/guest only its own repositories). */
export function Login(props: { onLogin(user: User): void }) {
  const [username, setUsername] = useState('demo');
  const [password, setPassword] = useState('demo');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const { user } = await api<{ user: User }>('/api/login', {
        method: 'POST',
        body: { username, password },
      });
      props.onLogin(user);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <main className="login">
      <h1>repo-wiki</h1>
      <form onSubmit={submit}>
        <input aria-label="User" value={username} onChange={(e) => setUsername(e.target.value)} />
        <input
          aria-label="Password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit">Log in</button>
      </form>
      <p className="muted">demo/demo sees every repository; guest/guest only the ones it added.</p>
      {error && <p className="error">{error}</p>}
    </main>
  );
}

import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, session } from './api';
import { DocumentView } from './pages/DocumentView';
import { Home } from './pages/Home';
import { Login } from './pages/Login';
import { RepoDetail } from './pages/RepoDetail';
import { Link, usePath } from './router';
import type { User } from './types';

function Page(props: { path: string }) {
  const repo = /^\/repos\/(\d+)\/?$/.exec(props.path);
  if (repo) return <RepoDetail key={repo[1]} id={repo[1] as string} />;
  const doc = /^\/documents\/(\d+)\/?$/.exec(props.path);
  if (doc) return <DocumentView key={doc[1]} id={doc[1] as string} />;
  return <Home />;
}

/** Session gate, header and routes. */
export function App() {
  const path = usePath();
  const [user, setUserState] = useState<User | null | undefined>(undefined);
  const setUser = useCallback((next: User | null) => {
    session.user = next?.username ?? ''; // before the pages render: their streams' sharing key
    setUserState(next);
  }, []);
  useEffect(() => {
    api<{ user: User }>('/api/me').then(
      (json) => setUser(json.user),
      (e) => setUser(e instanceof ApiError && e.status === 401 ? null : null),
    );
  }, [setUser]);
  if (user === undefined) return null;
  if (user === null) return <Login onLogin={setUser} />;
  const logout = async () => {
    await api('/api/logout', { method: 'POST' });
    setUser(null);
  };
  return (
    <>
      <nav className="top">
        <Link to="/" className="brand">
          repo-wiki <span className="muted">· RepoPulse</span>
        </Link>
        <span className="muted">
          {user.username} ({user.role}){' '}
          <button type="button" className="link" onClick={logout}>
            log out
          </button>
        </span>
      </nav>
      <Page path={path} />
    </>
  );
}

import { useEffect, useState } from 'react';
import { ApiError, api } from '../api';
import { renderMarkdown } from '../markdown';
import { Link } from '../router';
import type { DocumentFull } from '../types';

/** A generated document rendered from Markdown. */
export function DocumentView(props: { id: string }) {
  const [doc, setDoc] = useState<DocumentFull>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    api<{ document: DocumentFull }>(`/api/documents/${props.id}`).then(
      (json) => setDoc(json.document),
      (e) => setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e))),
    );
  }, [props.id]);
  if (error) return <main className="error">{error.message}</main>;
  if (!doc) return <main>Loading…</main>;
  const html = renderMarkdown(doc.content);
  return (
    <main>
      <p>
        <Link to={`/repos/${doc.repo_id}`}>← Back to the repository</Link>
      </p>
      <p className="muted mono">{doc.filename}</p>
      {/* biome-ignore lint/security/noDangerouslySetInnerHtml: Markdown rendered with raw HTML escaped and only http(s)/mailto links */}
      <article className="markdown" data-testid="document" dangerouslySetInnerHTML={{ __html: html }} />
    </main>
  );
}

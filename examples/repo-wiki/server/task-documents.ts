import type { RepositoryRow, TaskRow } from './db';
import { markdownCode, markdownText } from './markdown-escape';

/** A generated document before it is stored. */
export interface GeneratedDocument {
  title: string;
  filename: string;
  content: string;
}

/**
 * The body of each task kind's document. What users typed (the repository's URL and the name made
 * from it) goes in only through `markdownText`/`markdownCode`: it reads as typed and can inject no
 * Markdown.
 */
const SECTIONS: Record<string, (repo: RepositoryRow) => string> = {
  overview: (r) =>
    `**${markdownText(r.name)}** is analyzed from ${markdownCode(r.url)}.\n\n- Language mix: TypeScript, Markdown\n- Entry points: \`src/index.ts\`\n- Tests: present`,
  architecture: (r) =>
    `## Layers\n\n1. HTTP API\n2. Services\n3. Storage\n\n\`\`\`\nclient -> api -> services -> db\n\`\`\`\n\n${markdownText(r.name)} keeps each layer in its own folder.`,
  api: () =>
    '| Method | Path | Purpose |\n| --- | --- | --- |\n| GET | /api/items | list |\n| POST | /api/items | create |\n| DELETE | /api/items/:id | delete |',
  deployment: () =>
    '## Build\n\n```sh\nnpm ci && npm run build\n```\n\n## Run\n\nSet `PORT` and start the server.',
  glossary: () =>
    '- **Repository**: the analyzed code base.\n- **Task**: one analysis step.\n- **Document**: its output.',
};

/** Renders the simulated Markdown output of `task` on `repo`. */
export function renderDocument(repo: RepositoryRow, task: TaskRow): GeneratedDocument {
  const body = SECTIONS[task.kind]?.(repo) ?? `Analysis "${task.title}" of ${markdownText(repo.name)}.`;
  return {
    title: `${task.title} — ${repo.name}`,
    filename: `${task.kind}.md`,
    content: `# ${task.title}\n\n${body}\n\n_Generated ${new Date().toISOString()} by the simulated analyzer._\n`,
  };
}

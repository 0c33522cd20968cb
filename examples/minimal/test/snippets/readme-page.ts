// The root README's quick start (page side), compiled by the root typecheck;
// docs-snippets.test.ts checks the README shows exactly this.
import { createEventStream } from '@repopulse/client';

const stream = createEventStream('/api/repositories/42/events', { onReset: () => location.reload() });
stream.on('task.progress', (event) => console.log(`${event.payload.percent} %`));

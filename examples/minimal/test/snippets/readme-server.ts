// The root README's quick start (server side), compiled by the root typecheck;
// docs-snippets.test.ts checks the README shows exactly this.
import { createMemoryBus } from '@repopulse/bus-memory'; // or createRedisBus({ url }) from @repopulse/bus-redis
import { createEvent } from '@repopulse/events-core';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';

const bus = createMemoryBus();
const app = express();
app.get(
  '/api/repositories/:id/events',
  createEventStreamHandler({ bus, topic: (req) => `repo:${req.params.id}` }),
);
app.listen(3000);

// In your service layer, for each change (from its database transaction, with @repopulse/outbox,
// so that no crash or bus outage can lose it: see Getting started):
await bus.publish(
  'repo:42',
  createEvent('task.progress', { phase: 'analysis', percent: 40 }, { repo_id: 42 }),
);

import type { PostgresBus } from '@repopulse/bus-postgres';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';
import type { TaskService } from './tasks.js';

/** The Express app: a snapshot, a way to start tasks, and one event stream per repository. */
export function createApp(bus: PostgresBus, tasks: TaskService) {
  const app = express();

  // The snapshot: read the topic head first, then the rows.
  app.get('/api/repositories/:id', async (req, res) => {
    const position = await bus.head(`repo:${req.params.id}`);
    res.json({ tasks: await tasks.list(req.params.id), position });
  });

  app.post('/api/repositories/:id/tasks', async (req, res) => {
    res.status(202).json(await tasks.start(req.params.id, req.query.fail === '1'));
  });

  // SSE and long-poll on one URL, from the Postgres bus.
  const events = createEventStreamHandler<express.Request<{ id: string }>>({
    bus,
    topic: (req) => `repo:${req.params.id}`,
  });
  app.get('/api/repositories/:id/events', events);

  return { app, events };
}

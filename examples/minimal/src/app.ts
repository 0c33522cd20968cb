import { join } from 'node:path';
import type { EventBus } from '@repopulse/events-core';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';
import { authenticate, canSee } from './auth.js';
import { browserClient } from './browser-client.js';
import type { TaskService } from './tasks.js';

/** Your existing Express app, plus one event stream per repository. */
export function createApp(bus: EventBus, tasks: TaskService) {
  const app = express();
  app.use(authenticate);
  app.use(express.static(join(import.meta.dirname, '../public')));
  app.use('/vendor', browserClient());

  const mayRead: express.RequestHandler<{ id: string }> = (req, res, next) => {
    if (canSee(req.user, req.params.id)) next();
    else res.status(403).json({ error: { code: 'forbidden', message: 'not your repository' } });
  };

  // The snapshot: read the topic head first, then the data.
  app.get('/api/repositories/:id', mayRead, async (req, res) => {
    const position = await bus.head(`repo:${req.params.id}`);
    res.json({ tasks: tasks.list(req.params.id), position });
  });

  app.post('/api/repositories/:id/tasks', mayRead, (req, res) => {
    res.status(202).json(tasks.start(req.params.id));
  });

  // The stream: SSE and long-poll on one URL. The type argument types `req` as your app's
  // requests, with `req.user` and the route's `req.params.id`.
  const events = createEventStreamHandler<express.Request<{ id: string }>>({
    bus,
    topic: (req) => `repo:${req.params.id}`,
    authorize: (req) => canSee(req.user, req.params.id),
  });
  app.get('/api/repositories/:id/events', events);

  return { app, events };
}

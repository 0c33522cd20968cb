import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';
import { bus } from './bus.js';

const app = express();
app.get(
  '/api/repositories/:id/events',
  createEventStreamHandler({ bus, topic: (req) => `repo:${req.params.id}` }),
);
export const server = app.listen(Number(process.env.PORT ?? 3000));

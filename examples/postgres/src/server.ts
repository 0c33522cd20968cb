import type { AddressInfo } from 'node:net';
import { createPostgresBus } from '@repopulse/bus-postgres';
import pg from 'pg';
import { createApp } from './app.js';
import { createTaskService, createTasksTable } from './tasks.js';

const connectionString = process.env.DATABASE_URL;
if (!connectionString) throw new Error('set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');

// One pool for your queries and the bus's; the bus adds one listening connection of its own.
const pool = new pg.Pool({ connectionString });
await createTasksTable(pool);
const bus = createPostgresBus({ pool, historyLimit: 5000 });
const tasks = createTaskService(pool, bus, Number(process.env.STEP_MS ?? 500));
const { app, events } = createApp(bus, tasks);

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`);
});

// Shut down in order: the streams, the server, the bus, then the pool.
process.on('SIGTERM', async () => {
  await events.close({ graceMs: 1000 });
  server.close();
  await bus.close();
  await pool.end();
});

import type { AddressInfo } from 'node:net';
import { createOutbox } from '@repopulse/outbox';
import { createSqliteStore } from '@repopulse/outbox/sqlite';
import { createApp } from './app.js';
import { createBus } from './bus.js';
import { openDatabase } from './db.js';
import { createTaskService } from './tasks.js';

const bus = await createBus();
const db = openDatabase();
// Events enqueued in a transaction wait in the database until its commit; the relay then
// publishes them to the bus, in commit order, and retries while the bus is unreachable.
const outbox = createOutbox({ store: createSqliteStore(db), bus });
const tasks = createTaskService(db, outbox, Number(process.env.STEP_MS ?? 500));
const { app, events } = createApp(bus, tasks);

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`);
});

// Shut down in order: the streams (clients reconnect elsewhere), then the server, the relay
// (committed events it has not published wait in the database for the next start), the bus and
// the database.
process.on('SIGTERM', async () => {
  await events.close({ graceMs: 1000 });
  server.close();
  await outbox.close();
  await bus.close();
  db.close();
});

import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { createBus } from './bus.js';
import { createTaskService } from './tasks.js';

const bus = await createBus();
const tasks = createTaskService(bus, Number(process.env.STEP_MS ?? 500));
const { app, events } = createApp(bus, tasks);

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`);
});

// Shut down in order: the streams (clients reconnect elsewhere), then the server, then the bus.
process.on('SIGTERM', async () => {
  await events.close({ graceMs: 1000 });
  server.close();
  await bus.close();
});

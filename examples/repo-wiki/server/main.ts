import { startServer } from './app';
import { readConfig } from './config';
import { createLogger } from './logger';
import { startTelemetry } from './telemetry';

const config = readConfig();
const log = createLogger(config.logLevel, { service: 'repo-wiki', instance: config.instanceId });

// The SDK starts first, so the bus and the event routes record spans and metrics through it.
const telemetry = startTelemetry();
const running = await startServer(config, log, telemetry);
log.info('listening', {
  url: running.url.replace('127.0.0.1', 'localhost'),
  bus: config.redisUrl ? 'redis' : 'memory',
  data_dir: config.dataDir,
  sim_speed: config.simSpeed,
});
// Human-friendly line for `npm start`.
process.stdout.write(
  `\nRepoPulse repo-wiki: http://localhost:${new URL(running.url).port}  (log in as ${config.users[0]?.username}/${config.users[0]?.password} or guest/guest)\n\n`,
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, grace_ms: config.shutdownGraceMs });
    running.close(config.shutdownGraceMs).then(
      async () => {
        log.info('stopped');
        await telemetry.shutdown().catch(() => {});
        process.exit(0);
      },
      (error) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  });
}

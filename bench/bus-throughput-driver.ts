/**
 * The bus side of `bus-throughput` alone, for profiling: fresh `createEvent`s published through
 * `@repopulse/bus-redis` (2,000 in flight) to one subscription in this process, on the Redis at
 * `REDIS_URL` (e.g. a `redis-server` run under `valgrind --tool=callgrind`, whose instruction count
 * holds under load). One warm-up round, then `ROUNDS` rounds of `EVENTS` events; prints per round
 * the events/s, this process's CPU µs per event and redis-server's (`INFO cpu`).
 *
 * ```sh
 * cd bench && REDIS_URL=redis://127.0.0.1:6391 ROUNDS=1 node --conditions=@repopulse/source \
 *   --import tsx bus-throughput-driver.ts
 * ```
 */
import { createRedisBus } from '@repopulse/bus-redis';
import { Redis } from 'ioredis';
import { appEvent } from './app-event';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.env.ROUNDS ?? 5);
const events = Number(process.env.EVENTS ?? 20_000);
const IN_FLIGHT = 2000;
const topic = `driver:${process.pid}`;

const admin = new Redis(url);
const keyPrefix = `repopulse-driver:${process.pid}:`;
const bus = createRedisBus({ url, keyPrefix });
let received = 0;
const subscription = await bus.subscribe(topic, () => void received++);
let serial = 0;

const redisCpuSeconds = async () => {
  const info = await admin.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
};

const publishRound = () =>
  new Promise<void>((resolve, reject) => {
    let issued = 0;
    let settled = 0;
    const next = (): void => {
      if (issued === events) return;
      issued++;
      bus.publish(topic, appEvent(serial++)).then(() => {
        if (++settled === events) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });

const round = async () => {
  const target = received + events;
  const [cpuBefore, redisBefore, start] = [process.cpuUsage(), await redisCpuSeconds(), performance.now()];
  await publishRound();
  while (received < target) await new Promise((resolve) => setImmediate(resolve));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisSeconds = (await redisCpuSeconds()) - redisBefore;
  return `${Math.round(events / seconds)} events/s, this process ${((cpu.user + cpu.system) / events).toFixed(1)} µs/event, redis-server ${((redisSeconds * 1e6) / events).toFixed(1)} µs/event`;
};

try {
  await round(); // warm-up
  for (let i = 0; i < rounds; i++) console.log(await round());
} finally {
  await subscription.unsubscribe();
  await bus.close();
  const keys = await admin.keys(`${keyPrefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
}

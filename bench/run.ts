import { benchBusCluster } from './bus-cluster';
import { benchBusPublish } from './bus-publish';
import { benchBusThroughput } from './bus-throughput';
import { benchSseFanout } from './sse-fanout';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const only = process.argv[2];

console.log(`RepoPulse benchmarks — node ${process.version}; ratios are measured side by side in one run.`);
if (!only || only === 'bus') await benchBusPublish(redisUrl);
if (!only || only === 'sse') await benchSseFanout();
if (!only || only === 'throughput')
  console.log(await benchBusThroughput({ quick: process.argv.includes('--quick'), redisUrl }));
if (!only || only === 'cluster')
  console.log(await benchBusCluster({ quick: process.argv.includes('--quick') }));

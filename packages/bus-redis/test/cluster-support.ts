import {
  type RedisCluster,
  type RedisClusterOptions,
  redisClusterMissing,
  requirement,
  startRedisCluster,
} from '@repopulse/test-support';
import { afterAll, beforeAll, describe } from 'vitest';

/**
 * `describe` with one local Redis Cluster (6 nodes by default) started before the suite and
 * removed after it; `get()` returns it inside tests. Without `redis-server`/`redis-cli` the
 * suite is skipped loudly, and under `CI=true` the run fails instead.
 */
export function describeWithCluster(
  name: string,
  options: RedisClusterOptions,
  body: (get: () => RedisCluster) => void,
): void {
  const mode = requirement('bus-redis cluster tests', redisClusterMissing(), `"${name}"`);
  (mode === 'run' ? describe : describe.skip)(name, () => {
    let cluster: RedisCluster | undefined;
    beforeAll(async () => {
      cluster = await startRedisCluster(options);
    }, 60_000);
    afterAll(async () => {
      await cluster?.destroy();
    });
    body(() => {
      if (!cluster) throw new Error('the cluster did not start');
      return cluster;
    });
  });
}

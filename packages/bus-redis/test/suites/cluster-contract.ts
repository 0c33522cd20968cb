import { testBus } from '@repopulse/bus-contract';
import type { RedisCluster } from '@repopulse/test-support';
import { createRedisBus } from '../../src/index';

/**
 * The same contract as on one Redis, on a Redis Cluster: topics spread over the shards, live
 * delivery by sharded Pub/Sub, each publish confirmed by one replica (`replicaAcks` default).
 */
export function clusterContractSuite(client: string, cluster: () => RedisCluster): void {
  testBus(
    `redis cluster, ${client}`,
    (options) => createRedisBus({ cluster: cluster().startupNodes, ...options }),
    {
      sharedHistory: true,
      // MAXLEN ~ trims whole stream nodes, as on one Redis.
      trimSlack: 250,
    },
  );
}

import { testBus } from '@repopulse/bus-contract';
import { createRedisBus } from '../src/index';
import { describeWithCluster } from './cluster-support';

// The same contract as on one Redis, on a 3-primary + 3-replica cluster: topics spread over
// the shards, live delivery by sharded Pub/Sub, publishes confirmed by one replica.
describeWithCluster('bus-redis contract (own Redis Cluster, 3 primaries + 3 replicas)', {}, (cluster) => {
  testBus('redis cluster', (options) => createRedisBus({ cluster: cluster().startupNodes, ...options }), {
    sharedHistory: true,
    trimSlack: 250,
  });
});

import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { keySlot } from '../src/cluster/key-slot';
import { describeWithCluster } from './cluster-support';
import { clusterContractSuite } from './suites/cluster-contract';

describeWithCluster(
  'bus-redis contract (ioredis 5, own Redis Cluster: 3 primaries + 3 replicas)',
  {},
  (cluster) => {
    it('keySlot agrees with CLUSTER KEYSLOT', async () => {
      const redis = new Redis(cluster().nodes[0]!.url);
      const keys = Array.from({ length: 300 }, (_, i) => `repopulse:{repo:${i * 7919}}`);
      keys.push('plain', 'a{b}c', '{}x', 'ü{ñ}');
      for (const key of keys) expect(keySlot(key), key).toBe(await redis.cluster('KEYSLOT', key));
      redis.disconnect();
    });
    clusterContractSuite('ioredis 5', cluster);
  },
);

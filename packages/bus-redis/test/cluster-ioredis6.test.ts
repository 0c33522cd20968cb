import { expect, it, vi } from 'vitest';
import { describeWithCluster } from './cluster-support';
import { clusterContractSuite } from './suites/cluster-contract';
import { clusterFaultsSuite, FAULTS_CLUSTER } from './suites/cluster-faults';

// Every `ioredis` import of this file's module graph (the bus's sources and the tests' admin
// clients) resolves to ioredis 6, which speaks RESP3 by default.
vi.mock('ioredis', () => import('ioredis6'));

it('runs on ioredis 6', async () => {
  const [seen, six] = await Promise.all([import('ioredis'), import('ioredis6')]);
  expect(seen.Cluster).toBe(six.Cluster);
});

// One cluster for the file: the contract and the faults on ioredis 6.
describeWithCluster(
  'bus-redis on a Redis Cluster (ioredis 6, own Redis Cluster)',
  FAULTS_CLUSTER,
  (cluster) => {
    clusterContractSuite('ioredis 6', cluster);
    clusterFaultsSuite('ioredis 6', cluster);
  },
);

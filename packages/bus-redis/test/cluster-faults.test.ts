import { describeWithCluster } from './cluster-support';
import { clusterFaultsSuite, FAULTS_CLUSTER } from './suites/cluster-faults';

describeWithCluster('bus-redis cluster faults (ioredis 5, own Redis Cluster)', FAULTS_CLUSTER, (cluster) => {
  clusterFaultsSuite('ioredis 5', cluster);
});

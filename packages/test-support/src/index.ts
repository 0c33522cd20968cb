export { createTestCertificate, type TestCertificate } from './certificate';
export { CHROMIUM_ARGS, findChromium, launchChromium } from './chromium';
export { type Deferred, deferred } from './deferred';
export { type ExampleServer, failedStart, startExampleServer } from './example-server';
export { listenTracked, type TrackedServer } from './listen';
export { createTestOpenTelemetry, metricValue, type TestOpenTelemetry } from './open-telemetry';
export { freePort } from './port';
export {
  createTestSchema,
  DEFAULT_POSTGRES_URL,
  postgresMissing,
  postgresUrl,
  type TestSchema,
} from './postgres';
export {
  POSTGRES_BIN,
  type PostgresProcess,
  type PostgresStopMode,
  postgresServerMissing,
  startPostgres,
} from './postgres-process';
export { prng } from './prng';
export { publishSeries, type SeriesBus } from './publish-series';
export { DEFAULT_REDIS_URL, deleteKeys, hasRedisServer, reachableRedis, redisUrl, withRedis } from './redis';
export {
  type ClusterNode,
  type ClusterNodeRole,
  type RedisCluster,
  type RedisClusterOptions,
  redisClusterMissing,
  startRedisCluster,
} from './redis-cluster';
export { ping, type RedisProcess, spawnRedis } from './redis-process';
export { isCI, requirement } from './requirement';
export { compile, createTarballProject, type TarballProject, type ThirdParty } from './tarball-project';
export { createTextBody, type TextBody } from './text-body';
export { sleep, type WaitForOptions, waitFor } from './wait';

import { afterEach, describe } from 'vitest';
import { createContext, type ServerContractOptions } from './harness';
import type { ServerMount } from './mount';
import { authSuite } from './suites/auth';
import { backpressureSuite } from './suites/backpressure';
import { browserSuite } from './suites/browser';
import { churnSuite } from './suites/churn';
import { conformanceSuite } from './suites/conformance';
import { drainSuite } from './suites/drain';
import { heartbeatSuite } from './suites/heartbeat';
import { longPollSuite } from './suites/long-poll';
import { maxDurationSuite } from './suites/max-duration';
import { resetSuite } from './suites/reset';
import { resumeSuite } from './suites/resume';
import { streamSuite } from './suites/stream';
import { http1Transport } from './transport';

export { createTestCertificate, type TestCertificate } from '@repopulse/test-support';
export {
  type ContractBusFactory,
  numbered,
  numberOf,
  publishNumbered,
  type ServerContractOptions,
  type StartOptions,
} from './harness';
export {
  accessOf,
  type ContractHandlerOptions,
  type ContractStats,
  type MountedServer,
  type ServerMount,
  topicOf,
} from './mount';
export { signToken } from './token';
export { http1Transport, http2Transport, type RawResponse, type Transport } from './transport';

/**
 * Registers the whole server contract as a vitest suite named `name`: every adapter must pass it.
 * `mount(options)` starts a real server with the adapter's handler for those options; the suite
 * closes it (and its bus) after each test.
 *
 * @example
 * ```ts
 * testServer('node:http', async (options) => startNodeServer(options));
 * ```
 */
export function testServer(name: string, mount: ServerMount, options: ServerContractOptions = {}): void {
  const ctx = createContext(mount, options, options.transport ?? http1Transport());
  describe(`server contract: ${name}`, () => {
    afterEach(() => ctx.cleanup());
    streamSuite(ctx);
    resumeSuite(ctx);
    resetSuite(ctx);
    longPollSuite(ctx);
    authSuite(ctx);
    heartbeatSuite(ctx);
    backpressureSuite(ctx);
    drainSuite(ctx);
    maxDurationSuite(ctx);
    churnSuite(ctx);
    conformanceSuite(ctx);
    if (options.chromium) browserSuite(ctx, options.chromium);
  });
}

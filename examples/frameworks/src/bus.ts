import { createMemoryBus } from '@repopulse/bus-memory';

// One bus per process: in memory here; `createRedisBus({ url })` from @repopulse/bus-redis when
// several processes (or serverless instances) serve the same topics.
export const bus = createMemoryBus();

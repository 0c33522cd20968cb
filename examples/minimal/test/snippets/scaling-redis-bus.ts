// docs/scaling.md, compiled by the root typecheck; docs-snippets.test.ts checks the doc shows exactly this.
import { createRedisBus } from '@repopulse/bus-redis';

// Busiest topic: 20 events/s at peak. Longest disconnect to survive without a reset: 5 minutes.
// 20 × 300 = 6,000 events; add some headroom.
const bus = createRedisBus({
  url: process.env.REDIS_URL,
  historyLimit: 8_000,
  historyTtlMs: 24 * 60 * 60 * 1000, // and drop anything older than a day (bounds idle topics)
});
export default bus;

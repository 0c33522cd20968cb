// The helpers that register Vitest hooks. Apart from the root entry, which stays loadable outside
// Vitest (the benchmarks import it from plain Node).
export { type Cleanups, cleanupAfterEach } from './cleanups';

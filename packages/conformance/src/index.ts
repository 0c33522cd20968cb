/**
 * The RepoPulse conformance kit: checks, read-only, that any server claiming the wire protocol
 * (docs/protocol.md) answers as it says. `npx @repopulse/conformance <url>` from a terminal, or
 * {@link runConformance} from code.
 *
 * @packageDocumentation
 */
export { type ConformanceIo, formatResults, runConformanceCli } from './cli';
export type { ConformanceFetch } from './http';
export {
  type CheckResult,
  type ConformanceOptions,
  DEFAULT_MIN_EVENTS,
  DEFAULT_TIMEOUT_MS,
  runConformance,
} from './run';

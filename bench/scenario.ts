/** What every scenario gets from `run.ts`. */
export interface BenchContext {
  /** A short smoke run (`--quick`): fewer clients, events and rounds. */
  quick: boolean;
  /** Redis for scenarios that need it (`REDIS_URL`, default the local one). */
  redisUrl: string;
  /** Progress line on stderr (kept out of the report). */
  log(message: string): void;
}

/** One bar of the summary chart: a ratio against a target. */
export interface ChartBar {
  /** e.g. `burst vs coalescing`. */
  label: string;
  /** The measured ratio. */
  value: number;
  /** The target ratio, drawn as a mark. */
  target?: number;
  /** `higher` when bigger is better (throughput), `lower` for latency and memory. */
  better: 'higher' | 'lower';
}

/** What a scenario returns: a markdown section (its `## title` and tables) and chart bars. */
export interface BenchSection {
  /** Markdown starting with `## <title>`. */
  markdown: string;
  /** Ratios for the summary chart. */
  bars?: ChartBar[];
}

/** A scenario module's export: runs, returns its section. Registered by one line in `run.ts`. */
export type Scenario = (context: BenchContext) => Promise<BenchSection>;

import { median, num, ratio, spread, table } from './markdown';

/**
 * Side-by-side comparison: variants run in interleaved rounds (A B C, A B C, …) in one process, so
 * machine noise hits them alike; the report gives each variant's median throughput over the rounds
 * and its ratio to the first (the baseline).
 */
export interface Variant {
  /** Shown in the report. */
  name: string;
  /** Runs `ops` operations once; resolves when they are done. */
  run(ops: number): Promise<void> | void;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Interleaved rounds per variant. @default 7 */
  rounds?: number;
  /** Operations per round. */
  ops: number;
  /** Unmeasured rounds first. @default 1 */
  warmupRounds?: number;
  /**
   * What a round's duration is: elapsed time, or the CPU time the process used (user + system, all
   * its threads, the garbage collector's included) — for variants that differ only in CPU work done
   * in this process, it holds steady on a loaded machine, where elapsed time does not.
   * @default 'elapsed'
   */
  clock?: 'elapsed' | 'cpu';
}

/** One variant's result. */
export interface VariantResult {
  name: string;
  /** Median operations per second over the rounds. */
  opsPerSecond: number;
  /** `opsPerSecond` divided by the baseline's. */
  ratio: number;
  /** Every round's ops/s. */
  samples: number[];
}

/** The results as a markdown table: median ops/s, spread over the rounds, ratio to the baseline. */
export function resultsTable(results: readonly VariantResult[]): string {
  return table([
    ['variant', 'ops/s (median)', 'spread over rounds', 'vs baseline'],
    ...results.map((r) => [r.name, num(r.opsPerSecond), spread(r.samples), ratio(r.ratio)]),
  ]);
}

/** Runs the variants in-process, interleaved; the first variant is the baseline. */
export async function compare(variants: Variant[], options: CompareOptions): Promise<VariantResult[]> {
  const rounds = options.rounds ?? 7;
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < (options.warmupRounds ?? 1) + rounds; round++) {
    for (const variant of variants) {
      const cpu = options.clock === 'cpu';
      const start = process.hrtime.bigint();
      const startCpu = cpu ? process.cpuUsage() : undefined;
      await variant.run(options.ops);
      const used = startCpu && process.cpuUsage(startCpu);
      const seconds = used ? (used.user + used.system) / 1e6 : Number(process.hrtime.bigint() - start) / 1e9;
      if (round >= (options.warmupRounds ?? 1)) samples.get(variant.name)!.push(options.ops / seconds);
    }
  }
  const base = median(samples.get(variants[0]!.name)!);
  return variants.map((v) => {
    const opsPerSecond = median(samples.get(v.name)!);
    return { name: v.name, opsPerSecond, ratio: opsPerSecond / base, samples: samples.get(v.name)! };
  });
}

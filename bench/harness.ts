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
}

/** One variant's result. */
export interface VariantResult {
  name: string;
  /** Median operations per second over the rounds. */
  opsPerSecond: number;
  /** `opsPerSecond` divided by the baseline's. */
  ratio: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** Runs the variants interleaved and prints a table; the first variant is the baseline. */
export async function compare(
  title: string,
  variants: Variant[],
  options: CompareOptions,
): Promise<VariantResult[]> {
  const rounds = options.rounds ?? 7;
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < (options.warmupRounds ?? 1) + rounds; round++) {
    for (const variant of variants) {
      const start = process.hrtime.bigint();
      await variant.run(options.ops);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (round >= (options.warmupRounds ?? 1)) samples.get(variant.name)!.push(options.ops / seconds);
    }
  }
  const base = median(samples.get(variants[0]!.name)!);
  const results = variants.map((v) => {
    const opsPerSecond = median(samples.get(v.name)!);
    return { name: v.name, opsPerSecond, ratio: opsPerSecond / base };
  });
  console.log(`\n## ${title}  (${options.ops} ops x ${rounds} interleaved rounds, median)`);
  console.table(
    results.map((r) => ({
      variant: r.name,
      'ops/s': Math.round(r.opsPerSecond).toLocaleString('en-US'),
      'vs baseline': `${r.ratio.toFixed(2)}x`,
    })),
  );
  return results;
}

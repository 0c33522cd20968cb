import { execFileSync } from 'node:child_process';
import { type Child, startChild } from './processes';
import type { VariantName } from './variants';

/** A server process running `variant` and a load process pointed at it. */
export interface Pair {
  server: Child;
  load: Child;
}

/** Runs `body` with a fresh server + load pair (separate processes), then stops both. */
export async function withPair<T>(
  variant: VariantName,
  body: (pair: Pair) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const server = await startChild('server.ts', { BENCH_VARIANT: variant, ...env });
  const { port } = await server.call<{ port: number }>('ready');
  const load = await startChild('load.ts', { BENCH_PORT: String(port) });
  try {
    return await body({ server, load });
  } finally {
    await Promise.all([load.stop(), server.stop()]);
  }
}

/** The open-file hard limit child processes can raise themselves to. */
export function hardFdLimit(): number {
  try {
    const out = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return 1024;
  }
}

/** `clients`, or as many as the open-file limit allows, with a loud note when scaled down. */
export function fitClients(clients: number, log: (m: string) => void): { clients: number; note: string } {
  const limit = Math.min(hardFdLimit(), 65_536);
  if (clients + 256 <= limit) return { clients, note: '' };
  const scaled = Math.max(100, limit - 256);
  const note = `**Scaled down: the open-file hard limit is ${limit}, so ${scaled} clients instead of ${clients}.**`;
  log(note);
  return { clients: scaled, note };
}

/** Percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

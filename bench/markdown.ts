import os from 'node:os';

/** A markdown table from rows of cells (first row: the header), padded as the formatter wants it. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const [head] = rows;
  if (!head) return '';
  const cells = rows.map((row) => head.map((_, i) => String(row[i] ?? '')));
  const widths = head.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  const [header, ...rest] = cells as [string[], ...string[][]];
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rest.map(line)].join('\n');
}

/** `1234567` → `1,234,567`; fractions to `digits`. */
export function num(value: number, digits = 0): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';
}

/** `0.934` → `0.93×`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

/** Median of samples. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `min–max` of samples, for the spread over rounds. */
export function spread(values: readonly number[], digits = 0): string {
  if (values.length === 0) return '—';
  return `${num(Math.min(...values), digits)}–${num(Math.max(...values), digits)}`;
}

/** The machine block at the top of the report. */
export function machine(): string {
  const cpus = os.cpus();
  return table([
    ['machine', ''],
    ['CPU', `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`],
    ['memory', `${num(os.totalmem() / 2 ** 30, 1)} GiB`],
    ['OS', `${os.type()} ${os.release()}`],
    ['Node', process.version],
    [
      'load average at start (1/5/15 min)',
      os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / '),
    ],
    ['date', new Date().toISOString()],
  ]);
}

/**
 * When a section's run started and the machine's load average then: sections whose figures depend
 * much on what else the machine runs (the Redis ones) carry it, so a section updated from a
 * targeted run (`npm run bench -- <scenario>`) still says when and under what load it was measured.
 */
export function runStamp(): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  return `Run started ${new Date().toISOString()}, load average ${load} (1/5/15 min).`;
}

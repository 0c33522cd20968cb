import type { ChartBar } from './scenario';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart of ratios (no dependencies): one bar per measure, a dashed mark at its
 * target, green when the target is met, red when not, grey without a target.
 */
export function ratioChart(title: string, bars: readonly ChartBar[]): string {
  const rowHeight = 26;
  const left = 300;
  const width = 760;
  const plot = width - left - 70;
  const top = 40;
  const height = top + bars.length * rowHeight + 30;
  const max = Math.max(1.2, ...bars.flatMap((b) => [b.value, b.target ?? 0]).filter(Number.isFinite)) * 1.05;
  const x = (value: number) => left + (Math.min(value, max) / max) * plot;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const met =
      bar.target === undefined
        ? undefined
        : bar.better === 'higher'
          ? bar.value >= bar.target
          : bar.value <= bar.target;
    const color = met === undefined ? '#8c8c8c' : met ? '#2f9e44' : '#e03131';
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    const mark =
      bar.target === undefined
        ? ''
        : `<line x1="${x(bar.target)}" x2="${x(bar.target)}" y1="${y + 2}" y2="${y + rowHeight - 6}" stroke="#000" stroke-dasharray="3,2"/>`;
    return [
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(value) - left)}" height="${rowHeight - 12}" fill="${color}"/>`,
      mark,
      `<text x="${x(value) + 6}" y="${y + 15}">${value.toFixed(2)}×</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${x(1)}" x2="${x(1)}" y1="${top - 4}" y2="${height - 26}" stroke="#bbb"/>`,
    `<text x="${x(1)}" y="${height - 10}" text-anchor="middle" fill="#666">1×</text>`,
    ...rows,
    `<text x="${width - 10}" y="${height - 10}" text-anchor="end" fill="#666">dashed: target · green met · red missed</text>`,
    '</svg>',
    '',
  ].join('\n');
}

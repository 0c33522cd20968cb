import type { StreamItem } from '@repopulse/client';
import { traceIdOf } from '@repopulse/events-core';
import type { StreamPosition } from '@repopulse/events-core/wire';
import { summarizePayload } from './summary';

/** Where a command writes: `process.stdout`-like. */
export interface OutputStream {
  /** Writes a chunk of text. */
  write(chunk: string): unknown;
  /** True when it is a terminal (colours default on). */
  isTTY?: boolean;
}

type Style = 'dim' | 'bold' | 'cyan' | 'yellow' | 'red' | 'green' | 'magenta';
const ANSI: Record<Style, [number, number]> = {
  dim: [2, 22],
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

/**
 * Whether readable output is coloured: never with `--no-color` or a non-empty `NO_COLOR`;
 * always with `FORCE_COLOR` set (not `0`); else when stdout is a terminal.
 */
export function useColor(
  flag: boolean | undefined,
  out: OutputStream,
  env: Record<string, string | undefined>,
): boolean {
  if (flag === false || env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return out.isTTY === true;
}

const FAILED = /failed|error|canceled/;
const DONE = /completed|ready/;

/**
 * Formats stream items as NDJSON or as readable (optionally coloured) lines. `tailAfter`, given
 * with an `expired` reset the command follows up by replaying the retained tail, words the reset
 * line accordingly.
 */
export function createFormatter(
  json: boolean,
  color: boolean,
): (item: StreamItem, tailAfter?: StreamPosition) => string {
  const paint = (style: Style, text: string) =>
    color && text ? `\x1b[${ANSI[style][0]}m${text}\x1b[${ANSI[style][1]}m` : text;
  if (json) return (item) => `${JSON.stringify(item)}\n`;
  return (item, tailAfter) => {
    if (item.reset) {
      const line =
        tailAfter === undefined
          ? `history before ${item.position} is not retained; continuing from there`
          : `history up to ${tailAfter} is not retained; replaying the retained events after it`;
      return `${paint('yellow', `── reset (${item.reason}): ${line}`)}\n`;
    }
    const { event, position } = item;
    const ids = [
      event.repo_id === undefined ? '' : `repo=${event.repo_id}`,
      event.task_id === undefined ? '' : `task=${event.task_id}`,
      event.request_id === undefined ? '' : `req=${event.request_id}`,
      event.traceparent === undefined ? '' : `trace=${traceIdOf(event.traceparent) ?? '?'}`,
    ].filter(Boolean);
    const summary = summarizePayload(event);
    const tone: Style = FAILED.test(summary) ? 'red' : DONE.test(summary) ? 'green' : 'bold';
    const time = Number.isFinite(event.ts) ? new Date(event.ts).toISOString() : '?';
    return `${[paint('dim', time), paint('dim', position), paint('cyan', event.type.padEnd(19)), paint('magenta', ids.join(' ')), event.type.endsWith('status_changed') ? paint(tone, summary) : summary].filter(Boolean).join('  ')}\n`;
  };
}

/** The filter of `--type` and `--request-id`; resets always pass. */
export function createFilter(
  types: readonly string[],
  requestId: string | undefined,
): (item: StreamItem) => boolean {
  const exact = new Set(types.filter((t) => !t.endsWith('.*')));
  const prefixes = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
  return (item) => {
    if (item.reset) return true;
    const { type, request_id } = item.event;
    if (requestId !== undefined && request_id !== requestId) return false;
    return types.length === 0 || exact.has(type) || prefixes.some((p) => type.startsWith(p));
  };
}

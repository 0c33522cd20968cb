import { currentAction } from './request-context';
import { traceFields } from './telemetry';

/** Log levels, lowest first. */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

/** A log level name. */
export type LogLevelName = keyof typeof LEVELS;

/** Structured logger: one JSON object per line on stdout (errors on stderr). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/** Where log lines go: by default stdout, and stderr for `warn` and `error`. */
export type LogSink = (line: string, level: Exclude<LogLevelName, 'silent'>) => void;

const writeToProcess: LogSink = (line, level) => {
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line);
};

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}

/**
 * Creates a JSON-lines logger: `{"level":"info","time":"…","msg":"…",…fields}`, plus
 * `request_id` on every line written on behalf of a user action.
 *
 * @example
 * ```ts
 * const log = createLogger('info', { service: 'repo-wiki' });
 * log.info('listening', { url });
 * ```
 */
export function createLogger(
  level: LogLevelName = 'info',
  base: Record<string, unknown> = {},
  sink: LogSink = writeToProcess,
): Logger {
  const min = LEVELS[level] ?? LEVELS.info;
  const write = (name: Exclude<LogLevelName, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[name] < min) return;
    const line: Record<string, unknown> = { level: name, time: new Date().toISOString(), msg, ...base };
    // Every line written while an action runs (its request and its background work) names it.
    const action = currentAction();
    if (action) line.request_id = action.requestId;
    Object.assign(line, traceFields());
    if (fields) for (const [k, v] of Object.entries(fields)) line[k] = errorFields(v);
    sink(`${JSON.stringify(line)}\n`, name);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger(level, { ...base, ...fields }, sink),
  };
}

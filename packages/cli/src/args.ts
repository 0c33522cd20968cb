import { parseArgs } from 'node:util';
import { isPosition, ZERO_POSITION } from '@repopulse/events-core/wire';
import { CliError } from './errors';

/** A `repopulse` subcommand. */
export type CommandName = 'tail' | 'replay';

/** A parsed, checked command line. */
export interface Command {
  /** `tail` follows the stream; `replay` prints the retained history up to the head and exits. */
  name: CommandName;
  /** The stream URL (absolute, http or https). */
  url: URL;
  /** Resume after this position (`0-0` for `--from-start`); absent: start at the current head. */
  after: string | undefined;
  /** Only these event types (exact, or a prefix ending in `.*`); empty: every type. */
  types: string[];
  /** Only events of this `request_id`. */
  requestId: string | undefined;
  /** NDJSON output instead of readable lines. */
  json: boolean;
  /** `false`: never colour; `undefined`: colour when stdout is a TTY and `NO_COLOR` is unset. */
  color: boolean | undefined;
  /** Request headers (from `-H` and `--token`). */
  headers: [string, string][];
  /** Give up after this many failed reconnects in a row (`Infinity`: never). */
  maxRetries: number;
}

/** What {@link parseCommand} found: a command to run, or a request for help text. */
export type ParsedCommandLine = { help: CommandName | 'main' } | { command: Command };

const OPTIONS = {
  'from-start': { type: 'boolean' },
  after: { type: 'string' },
  type: { type: 'string', multiple: true },
  'request-id': { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  header: { type: 'string', short: 'H', multiple: true },
  token: { type: 'string' },
  'max-retries': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const EVENT_TYPE = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/i;

const usage = (message: string) => new CliError('usage', `${message} (see repopulse --help)`);

function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim();
  if (colon < 1 || !HEADER_NAME.test(name))
    throw usage(`-H expects 'Name: value', got ${JSON.stringify(raw)}`);
  return [name, raw.slice(colon + 1).trim()];
}

/**
 * Parses `argv` (without `node` and the script) into a {@link Command}. Throws a
 * {@link CliError} with code `usage` and a one-line message for anything it cannot accept.
 *
 * @example
 * ```ts
 * parseCommand(['replay', 'http://localhost:3000/api/events', '--from-start', '--json']);
 * ```
 */
export function parseCommand(argv: readonly string[]): ParsedCommandLine {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const { values, positionals } = parsed;
  const [name, target, ...rest] = positionals;
  if (name === undefined || name === 'help') return { help: 'main' };
  if (name !== 'tail' && name !== 'replay') throw usage(`unknown command ${JSON.stringify(name)}`);
  if (values.help) return { help: name };
  if (target === undefined) throw usage(`${name} needs the stream URL`);
  if (rest.length > 0) throw usage(`unexpected argument ${JSON.stringify(rest[0])}`);

  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw usage(`not a URL: ${JSON.stringify(target)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`not an http(s) URL: ${target}`);

  if (values['from-start'] && values.after !== undefined)
    throw usage('use --from-start or --after, not both');
  if (values.after !== undefined && !isPosition(values.after)) {
    throw usage(
      `--after expects a stream position like 1732842000000-0, got ${JSON.stringify(values.after)}`,
    );
  }
  // `replay` without a starting point replays everything retained.
  const after =
    values['from-start'] || (name === 'replay' && values.after === undefined) ? ZERO_POSITION : values.after;

  const types = (values.type ?? [])
    .flatMap((list) => list.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  for (const type of types)
    if (!EVENT_TYPE.test(type)) throw usage(`--type: not an event type: ${JSON.stringify(type)}`);

  const headers = (values.header ?? []).map(parseHeader);
  if (values.token !== undefined) {
    if (!values.token || /[\r\n]/.test(values.token)) throw usage('--token must be a non-empty single line');
    headers.push(['Authorization', `Bearer ${values.token}`]);
  }

  let maxRetries = Number.POSITIVE_INFINITY;
  if (values['max-retries'] !== undefined) {
    maxRetries = Number(values['max-retries']);
    if (!Number.isInteger(maxRetries) || maxRetries < 0)
      throw usage('--max-retries expects a whole number ≥ 0');
  }

  return {
    command: {
      name,
      url,
      after,
      types,
      requestId: values['request-id'],
      json: values.json ?? false,
      color: values['no-color'] ? false : undefined,
      headers,
      maxRetries,
    },
  };
}

import { createEventStream, EventStreamError, type FetchLike, type StreamItem } from '@repopulse/client';
import { comparePositions, retainedTailAfter, type StreamPosition } from '@repopulse/events-core/wire';
import { type Command, parseCommand } from './args';
import { CliError } from './errors';
import { EXIT_CODES, type ExitCodeName, exitCodeOfStatus } from './exit-codes';
import { readHead } from './head';
import { helpText } from './help';
import { createFilter, createFormatter, type OutputStream, useColor } from './output';

/** Where {@link runCli} reads and writes; the `bin` passes the process's own. */
export interface CliIo {
  /** Events (readable lines or NDJSON) and help text. */
  stdout: OutputStream;
  /** One-line errors and connection notices. */
  stderr: OutputStream;
  /**
   * Environment (`NO_COLOR`, `FORCE_COLOR`).
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /** Aborting it stops the command (exit code 130), e.g. on SIGINT. */
  signal?: AbortSignal;
}

/** The exit code of a fatal stream error. */
function exitCodeOf(error: EventStreamError): ExitCodeName {
  switch (error.code) {
    case 'unauthorized':
    case 'forbidden':
    case 'not_found':
    case 'bad_request':
      return error.code;
    case 'http_status':
      return exitCodeOfStatus(error.status ?? 0);
    case 'retries_exhausted':
    case 'network':
      return 'unavailable';
    case 'no_content':
      return 'ok';
    default:
      return 'failure';
  }
}

/** Follows (tail) or replays (replay) one stream; resolves with the exit code. */
async function follow(command: Command, io: Required<Pick<CliIo, 'stdout' | 'stderr' | 'env'>> & CliIo) {
  const { stdout, stderr } = io;
  const note = (text: string) => stderr.write(`[repopulse] ${text}\n`);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  io.signal?.addEventListener('abort', onAbort);
  try {
    const fetchFn: FetchLike = io.fetch ?? ((input, init) => fetch(input, init));
    const head = await readHead(command.url, command.headers, fetchFn, stop.signal);
    const replay = command.name === 'replay';
    const start = command.after ?? head;
    // Replay ends at the head read above: nothing to do when the start is already there.
    if (replay && comparePositions(start, head) >= 0) return EXIT_CODES.ok;

    const format = createFormatter(command.json, useColor(command.color, stdout, io.env));
    const keep = createFilter(command.types, command.requestId);
    const open = (from: string) => {
      let connected = false;
      let lost = false;
      const stream = createEventStream(command.url, {
        lastEventId: from,
        headers: command.headers,
        fetch: fetchFn,
        signal: stop.signal,
        maxRetries: command.maxRetries,
        onError(error) {
          if (error.fatal || error.code === 'handler') return; // fatal: reported once, below
          note(`${error.message.replace(/^\[repopulse\] /, '')}; retrying`);
        },
      });
      stream.onState((state) => {
        const resumeAt = stream.lastEventId || from;
        if (state === 'open' || state === 'polling') {
          if (lost)
            note(`reconnected (${state === 'open' ? 'SSE' : 'long-poll'}); resuming after ${resumeAt}`);
          connected = true;
          lost = false;
        } else if (state === 'connecting' && connected && !lost) {
          lost = true;
          note(`connection lost; reconnecting to resume after ${resumeAt}`);
        }
      });
      return stream;
    };
    const reached = (item: StreamItem) => replay && comparePositions(item.position, head) >= 0;
    // From the start, an expired reset that says where the retained tail begins is followed by
    // the tail itself: the stream is opened again after `retainedAfter`.
    let from: string = start;
    for (;;) {
      const stream = open(from);
      let tailAfter: StreamPosition | undefined;
      try {
        for await (const item of stream) {
          if (item.reset) tailAfter = retainedTailAfter(item, from);
          if (keep(item)) stdout.write(format(item, tailAfter));
          if (tailAfter !== undefined || reached(item)) break;
        }
      } catch (error) {
        if (!(error instanceof EventStreamError)) throw error;
        const code = exitCodeOf(error);
        if (code !== 'ok') note(`${command.url.pathname}: ${error.message.replace(/^\[repopulse\] /, '')}`);
        return EXIT_CODES[code];
      }
      if (tailAfter === undefined || stop.signal.aborted) break;
      if (replay && comparePositions(tailAfter, head) >= 0) break;
      from = tailAfter;
    }
    return stop.signal.aborted ? EXIT_CODES.interrupted : EXIT_CODES.ok;
  } catch (error) {
    if (stop.signal.aborted) return EXIT_CODES.interrupted;
    throw error;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/**
 * Runs one `repopulse` command line and resolves with its exit code (see {@link EXIT_CODES});
 * it never throws and never calls `process.exit`. Errors are one line on `stderr`.
 *
 * @example
 * ```ts
 * const code = await runCli(['replay', url, '--from-start', '--json'], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 * });
 * process.exitCode = code;
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  try {
    const parsed = parseCommand(argv);
    if ('help' in parsed) {
      io.stdout.write(helpText(parsed.help));
      return EXIT_CODES.ok;
    }
    return await follow(parsed.command, { ...io, env });
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`[repopulse] unexpected error: ${(error as Error)?.message ?? error}\n`);
    return EXIT_CODES.failure;
  }
}

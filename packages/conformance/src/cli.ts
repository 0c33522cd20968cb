import { parseArgs } from 'node:util';
import { isRepoPulseError } from '@repopulse/events-core';
import { type CheckResult, DEFAULT_MIN_EVENTS, DEFAULT_TIMEOUT_MS, runConformance } from './run';

/** Where the command writes. */
export interface ConformanceIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const USAGE = `Usage: repopulse-conformance <url> [options]

Checks, read-only, that the server at <url> speaks the RepoPulse wire protocol (docs/protocol.md).
<url> is the events URL of a topic that already holds at least --min-events retained events.

Options:
  --token <token>          a stream token that may read <url> (sent as Authorization: Bearer);
                           also checks that requests without one get 401
  --forbidden-url <url>    an events URL the token may not read (checks the 403)
  --min-events <n>         events the topic holds at least (default ${DEFAULT_MIN_EVENTS}, at least 3)
  --timeout-ms <ms>        how long one request may take (default ${DEFAULT_TIMEOUT_MS})
  --json                   print the results as JSON
  -h, --help               this help

Exit code: 0 when every check passed, 1 when one failed, 2 for a usage error.
`;

/** Formats results as lines: `✓`/`✗`/`-`, the check's name and title, the reason under a failure. */
export function formatResults(url: string, results: readonly CheckResult[]): string {
  const mark = { pass: '✓', fail: '✗', skip: '-' } as const;
  const lines = [`RepoPulse conformance of ${url}`];
  for (const result of results) {
    lines.push(`${mark[result.status]} ${result.name}: ${result.title}`);
    if (result.status === 'fail') lines.push(`    FAIL: ${result.reason}`);
    if (result.status === 'skip') lines.push(`    skipped: ${result.reason}`);
  }
  const count = (status: CheckResult['status']) => results.filter((r) => r.status === status).length;
  lines.push(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}

/**
 * Runs the command line `args` (without `node` and the script): prints one line per check and
 * resolves with the exit code (0 all passed, 1 a check failed, 2 usage error).
 *
 * @example
 * ```ts
 * process.exitCode = await runConformanceCli(process.argv.slice(2), process);
 * ```
 */
export async function runConformanceCli(args: readonly string[], io: ConformanceIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr.write(`[repopulse] ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr.write(`[repopulse] expected one <url>, got ${positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const url = positionals[0]!;
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  try {
    const results = await runConformance({
      url,
      ...(values.token !== undefined ? { token: values.token } : {}),
      ...(values['forbidden-url'] !== undefined ? { forbiddenUrl: values['forbidden-url'] } : {}),
      ...(values['min-events'] !== undefined ? { minEvents: number(values['min-events']) } : {}),
      ...(values['timeout-ms'] !== undefined ? { timeoutMs: number(values['timeout-ms']) } : {}),
    });
    io.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : formatResults(url, results));
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } catch (error) {
    if (!isRepoPulseError(error)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 2;
  }
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      token: { type: 'string' },
      'forbidden-url': { type: 'string' },
      'min-events': { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

import type { CommandName } from './args';

const COMMON = `Filters and output:
  --type <a,b>         only these event types (repeatable; "task.*" matches a prefix)
  --request-id <id>    only the events of one action (its X-Request-Id / request_id)
  --json               one JSON object per line: {"position","event"} or {"reset":true,…}
  --no-color           plain text (also when stdout is not a terminal or NO_COLOR is set)

Connection:
  -H, --header 'Name: value'   send a header on every request (repeatable)
  --token <token>              shorthand for -H 'Authorization: Bearer <token>'
  --max-retries <n>            give up after n failed reconnects in a row (default: never)

Exit codes: 0 ok · 2 usage · 3 unauthorized (401) · 4 forbidden (403) · 5 not found (404)
            6 bad request (400) · 7 unreachable / 5xx · 1 other · 130 interrupted`;

const HELP: Record<CommandName | 'main', string> = {
  main: `repopulse — follow or replay a RepoPulse event stream

Usage:
  repopulse tail <url> [--from-start | --after <position>] [options]
  repopulse replay <url> [--from-start | --after <position>] [options]
  repopulse <command> --help

Commands:
  tail     follow the stream live (Ctrl-C to stop); resumes by itself after a disconnect
  replay   print the retained history up to the current head, then exit

<url> is the stream URL, e.g. http://localhost:3000/api/repositories/3/events
(SSE or JSON long-poll; the transport is picked as a browser client would).

${COMMON}
`,
  tail: `repopulse tail <url> [--from-start | --after <position>] [options]

Follows the stream and prints each event as it happens. Without --from-start or --after it
starts at the current head (only new events). After a dropped connection it reconnects with
backoff and resumes after the last event printed: no gap, no duplicate (it says so on stderr).
If the server no longer retains that point it prints a reset line and goes on live. The same
holds for --from-start once the topic ever dropped events (limit or TTL): "from the start" is
then no longer replayable.

  --from-start         replay the retained history first (resume after 0-0)
  --after <position>   replay what came after this position (e.g. one printed earlier)

${COMMON}
`,
  replay: `repopulse replay <url> [--from-start | --after <position>] [options]

Prints the retained history and exits. It first reads the stream's head position (one
long-poll request with wait=0), then reads the stream from the starting point until it has
printed the event at that head. Events published meanwhile are not waited for.

  --from-start         start at the beginning of the retained history (the default)
  --after <position>   start after this position

${COMMON}
`,
};

/** The help text of `repopulse --help` or `repopulse <command> --help`. */
export function helpText(topic: CommandName | 'main'): string {
  return HELP[topic];
}

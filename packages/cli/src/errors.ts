import { RepoPulseError } from '@repopulse/events-core';
import { EXIT_CODES, type ExitCodeName } from './exit-codes';

/**
 * The one error class of `@repopulse/cli`: `code` names the exit status (see {@link EXIT_CODES})
 * and the message is the one line the command prints on stderr. Messages start with `[repopulse]`.
 *
 * @example
 * ```ts
 * throw new CliError('usage', '--after needs a position like 1732842000000-0');
 * ```
 */
export class CliError extends RepoPulseError<ExitCodeName> {
  /** The process exit status this error ends the command with. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

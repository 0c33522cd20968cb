export { type Command, type CommandName, type ParsedCommandLine, parseCommand } from './args';
export { CliError } from './errors';
export { EXIT_CODES, type ExitCodeName } from './exit-codes';
export { createFilter, createFormatter, type OutputStream, useColor } from './output';
export { type CliIo, runCli } from './run';
export { summarizePayload } from './summary';

#!/usr/bin/env node
import { runCli } from './run';

// Ctrl-C stops the command (exit 130); a closed pipe (`repopulse replay … | head`) ends it quietly.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: stop.signal }).then(
  (code) => {
    process.exitCode = code;
  },
);

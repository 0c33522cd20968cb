#!/usr/bin/env node
import { runConformanceCli } from './cli';

runConformanceCli(process.argv.slice(2), process).then((code) => {
  process.exitCode = code;
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { testBus } from '../src/index';
import { createArrayBus } from './array-bus';

// The example of docs/writing-a-bus.md, checked the way that guide says to check a new bus.
testBus('array (docs/writing-a-bus.md)', (options) => createArrayBus(options), { sharedHistory: false });

it('docs/writing-a-bus.md shows this example verbatim', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  const guide = readFileSync(join(root, 'docs', 'writing-a-bus.md'), 'utf8');
  const example = readFileSync(join(import.meta.dirname, 'array-bus.ts'), 'utf8');
  expect(guide).toContain(`\`\`\`ts\n${example}\`\`\``);
});

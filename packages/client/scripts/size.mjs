// What an app pays for each import of the client in a browser bundle: esbuild, tree-shaken and
// code-split as an app's bundler does, minified, gzipped (the event-stream parser and the parts of
// `@repopulse/events-core/wire` it uses included). The budgets:
// - `createEventStream`: at most 4 kB = 4000 B;
// - `createLiveResource` (without tab sharing): at most 700 B more than `createEventStream`;
// - `createSharedEventStream` / `tabSharing` of `@repopulse/client/share`: at most 2100 B more;
// - `useEventStream` and `useLiveResource` of `@repopulse/client/react` (React external): at most
//   1200 B more.
// events-core may add only modules of its wire entry to the stream, the live resource and the hooks
// (the rest of it is imported for types only); tab sharing also brings what the wire's frame
// encoders need (their error class).
// Prints the figures; exits 1 when one is over budget. Usage: node scripts/size.mjs [--json]
import { isWireModule, measureImport } from './browser-bundle.mjs';

export const BUDGET_BYTES = 4000;

/** What is measured: an import (entry and names), and its budget in bytes over `createEventStream`. */
export const IMPORTS = {
  createEventStream: { entry: 'index', names: ['createEventStream'], extra: 0 },
  createLiveResource: { entry: 'index', names: ['createLiveResource'], extra: 700 },
  share: { entry: 'share', names: ['createSharedEventStream', 'tabSharing'], extra: 2100 },
  react: { entry: 'react', names: ['useEventStream', 'useLiveResource'], extra: 1200 },
};

/** Measures every import: gzipped and minified bytes, bytes over `createEventStream`, events-core modules. */
export async function measureSize() {
  const imports = {};
  for (const [name, { entry, names, extra }] of Object.entries(IMPORTS)) {
    const size = await measureImport(entry, names);
    imports[name] = { ...size, budget: undefined, extraBudget: extra };
  }
  const base = imports.createEventStream.gzipped;
  for (const size of Object.values(imports)) {
    size.extra = size.gzipped - base;
    size.budget = base + size.extraBudget;
  }
  imports.createEventStream.budget = BUDGET_BYTES;
  const outsideWire = Object.entries(imports)
    .filter(([name]) => name !== 'share')
    .flatMap(([, size]) => Object.keys(size.eventsCore).filter((path) => !isWireModule(path)));
  return { imports, outsideWire: [...new Set(outsideWire)] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { imports, outsideWire } = await measureSize();
  const over = Object.entries(imports).filter(([, size]) => size.gzipped > size.budget);
  const ok = over.length === 0 && outsideWire.length === 0;
  if (process.argv.includes('--json')) console.log(JSON.stringify({ imports, outsideWire }));
  else {
    console.log('@repopulse/client in a browser bundle, per import (esbuild, tree-shaken, min+gzip):');
    for (const [name, size] of Object.entries(imports)) {
      const wire = Object.values(size.eventsCore).reduce((sum, bytes) => sum + bytes, 0);
      console.log(
        `  ${name}: ${size.gzipped} B (${size.minified} B minified; ${wire} B of it events-core) ` +
          `budget ${size.budget} B${size.extraBudget ? ` (+${size.extraBudget})` : ''} ` +
          (size.gzipped <= size.budget ? 'OK' : 'OVER BUDGET'),
      );
    }
    if (outsideWire.length) console.log(`  events-core outside ./wire got in: ${outsideWire.join(', ')}`);
  }
  process.exit(ok ? 0 : 1);
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express from 'express';

/**
 * Serves `@repopulse/client`'s ESM build (it has no runtime dependencies) for pages without a
 * bundler; the page maps the bare import with an import map. With Vite or webpack, import the
 * package instead.
 */
export function browserClient(): express.Router {
  const require = createRequire(import.meta.url);
  const clientPackage = require.resolve('@repopulse/client/package.json');
  const router = express.Router();
  router.use('/repopulse-client', express.static(join(dirname(clientPackage), 'dist')));
  return router;
}

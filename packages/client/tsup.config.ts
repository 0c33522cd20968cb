import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// The protocol helpers of `@repopulse/events-core/wire` are bundled in (from its sources), so the
// client's build has no runtime import but React's: a page without a bundler maps one import only.
export default defineConfig(
  packageConfig(
    { index: 'src/index.ts', react: 'src/react.tsx', share: 'src/share.ts' },
    {
      noExternal: ['@repopulse/events-core'],
      esbuildOptions(options) {
        options.conditions = ['@repopulse/source'];
      },
    },
  ),
);

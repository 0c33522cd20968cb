import { fileURLToPath } from 'node:url';

// The contract's Next.js app: workspace packages are compiled from their TypeScript sources (the
// `@repopulse/source` export condition), as the other tests use them; nothing is built first.
/** @type {import('next').NextConfig} */
const config = {
  compress: false,
  distDir: process.env.NEXT_DIST_DIR ?? '.next',
  outputFileTracingRoot: fileURLToPath(new URL('../../../..', import.meta.url)),
  transpilePackages: [
    '@repopulse/sse-server',
    '@repopulse/events-core',
    '@repopulse/bus-redis',
    '@repopulse/server-contract',
  ],
  serverExternalPackages: ['ioredis'],
  webpack(webpackConfig) {
    webpackConfig.resolve.conditionNames = [
      '@repopulse/source',
      ...(webpackConfig.resolve.conditionNames ?? ['...']),
    ];
    return webpackConfig;
  },
};

export default config;

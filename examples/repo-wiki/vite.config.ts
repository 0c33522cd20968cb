import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// Workspace packages resolve to their `src` through the `@repopulse/source` condition, so the UI
// builds without building the libraries first.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  resolve: { conditions: ['@repopulse/source', ...defaultClientConditions] },
  build: { outDir: 'dist/public', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://localhost:3000' } },
  logLevel: 'warn',
});

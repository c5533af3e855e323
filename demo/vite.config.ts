import { createLogger, defineConfig } from 'vite';

// /sdk/webim.js is loaded as a classic script on purpose (it defines the global WebIM, served by
// seen); Vite's warning that it cannot bundle it is noise.
const logger = createLogger();
const warn = logger.warn.bind(logger);
logger.warn = (msg, opts) => {
  if (!msg.includes('/sdk/webim.js')) warn(msg, opts);
};

// The seen server the dev server forwards /api, /ws and /sdk to (`npm run dev`).
const seen = process.env.SEEN_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  // Relative asset URLs: the built app works wherever seen mounts it.
  base: './',
  customLogger: logger,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Fixed file names (no content hashes): the committed dist stays stable, and a stale dist
    // shows up as a diff (scripts/check-dist.mjs).
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
  server: {
    proxy: {
      '/api': seen,
      '/sdk': seen,
      '/healthz': seen,
      '/ws': { target: seen.replace(/^http/, 'ws'), ws: true },
    },
  },
});

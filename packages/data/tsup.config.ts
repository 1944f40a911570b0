import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // Node: the worker is its own entry, found at run time as ./worker.js beside the chunks.
    entry: { index: 'src/index.ts', worker: 'src/node/worker.ts' },
    format: ['esm', 'cjs'],
    platform: 'node',
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: true,
    // One copy of each module shared by index and worker, in CJS too (tsup splits only ESM by default).
    splitting: true,
    // import.meta.url in the CJS build, for new URL('./worker.js', import.meta.url).
    shims: true,
    // Leave dist/browser to the browser config: the two configs build at the same time.
    clean: ['!browser/**'],
    target: 'es2022',
    external: ['sharp'],
  },
  {
    // Browser: no node: imports, no sharp, no worker_threads (checked by src/browser.test.ts).
    // Its own folder, so its chunks never mix with the Node build's.
    entry: { index: 'src/browser.ts', 'browser-worker': 'src/browser/worker.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    dts: { entry: { index: 'src/browser.ts' } },
    clean: true,
    sourcemap: true,
    target: 'es2022',
  },
]);

import { defineConfig } from 'vite';

// Cross-origin isolation (SharedArrayBuffer, shared WebAssembly memory) for wasm threads.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  server: { headers: isolation },
  preview: { headers: isolation },
  // The app bundles gpu.js (its browser build, via the package's "browser" field) and the kernels.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    // @gpunet/layers names modules by their class (`Module.typeName` is `constructor.name`), and
    // @gpunet/alexnet's `features()` looks for `ReLU` by that name: minified names break both.
    rolldownOptions: { output: { keepNames: true } },
  },
});

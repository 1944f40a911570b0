import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  splitting: true,
  clean: true,
  target: 'es2022',
  // gpu.js stays a runtime dependency: it loads native and Wasm pieces relative to itself.
  external: ['gpu.js'],
});

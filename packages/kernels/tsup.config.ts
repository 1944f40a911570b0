import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  splitting: true,
  clean: true,
  target: 'es2022',
  // gpu.js stays an external dependency: it is large and picks its own platform code.
  external: ['gpu.js'],
});

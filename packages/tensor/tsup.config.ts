import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts', 'src/conformance.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // One engine shared by index and testing, in CJS too (tsup splits only ESM by default).
  splitting: true,
  clean: true,
  target: 'es2022',
});

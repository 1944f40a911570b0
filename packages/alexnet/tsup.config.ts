import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // node.ts re-uses index's modules; splitting shares them in CJS too (tsup splits only ESM by default).
  splitting: true,
  clean: true,
  target: 'es2022',
});

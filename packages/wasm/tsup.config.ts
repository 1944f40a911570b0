import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/relaxed-simd.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  splitting: true,
  clean: true,
  target: 'es2022',
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // AlexNet-size cases run gpu.js's cpu and webasm modes at a few hundred MFLOP/s.
    testTimeout: 180_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // An allowance for loaded 2-core machines (tests assert numbers, never timings).
    testTimeout: 60_000,
    include: ['src/**/*.test.ts'],
  },
});

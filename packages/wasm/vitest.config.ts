import { defineConfig } from 'vitest/config';

// GPUNET_TEST_RELAXED_SIMD=1 runs the tests with V8's relaxed SIMD on (Node 20 has it behind a
// flag), so the fused multiply-add build of the kernels is the one under test.
const relaxed = process.env.GPUNET_TEST_RELAXED_SIMD === '1';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    execArgv: relaxed ? ['--experimental-wasm-relaxed-simd'] : [],
  },
});

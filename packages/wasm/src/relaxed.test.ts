import { getBackend } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported, type WasmBackend } from './index.js';

// The suite runs twice in `pnpm test`: plainly, and with GPUNET_TEST_RELAXED_SIMD=1 (V8's flag).
const expectRelaxed = process.env.GPUNET_TEST_RELAXED_SIMD === '1';

describe('relaxed SIMD detection', () => {
  it(`loads the ${expectRelaxed ? 'fused multiply-add' : 'plain multiply-add'} build, as this engine allows`, () => {
    expect(relaxedSimdSupported()).toBe(expectRelaxed);
    expect((getBackend() as WasmBackend).heap.relaxedSimd).toBe(expectRelaxed);
  });
});

import { getBackend } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported, type WasmBackend } from './index.js';

// The suite runs twice in `pnpm test`: plainly, and with GPUNET_TEST_RELAXED_SIMD=1 (V8's flag).
// V8 ships relaxed SIMD on by default from 11.4 (Chrome 114): Node 20 (V8 11.3) needs the flag,
// Node 22 (V8 12.4) has it either way.
const [v8Major = 0, v8Minor = 0] = process.versions.v8.split('.').map(Number);
const shippedByDefault = v8Major > 11 || (v8Major === 11 && v8Minor >= 4);
const expectRelaxed = process.env.GPUNET_TEST_RELAXED_SIMD === '1' || shippedByDefault;

describe('relaxed SIMD detection', () => {
  it(`loads the ${expectRelaxed ? 'fused multiply-add' : 'plain multiply-add'} build, as this engine allows`, () => {
    expect(relaxedSimdSupported()).toBe(expectRelaxed);
    expect((getBackend() as WasmBackend).heap.relaxedSimd).toBe(expectRelaxed);
  });
});

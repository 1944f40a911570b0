import { checkConformance, conformanceCases } from '@gpunet/tensor/conformance';
import { describe, it } from 'vitest';
import './index.js';
import { IMPLEMENTED_MODES } from './modes.js';

/**
 * The shared conformance suite on every implemented gpu.js mode. gpu.js's cpu and webasm modes
 * compute in float32 like the reference backend, in the same summation order per output
 * element, so the suite's default tolerances hold.
 */
describe.each(IMPLEMENTED_MODES)('gpu.js %s mode conformance', (mode) => {
  it.each(conformanceCases)('$name', async (c) => {
    await checkConformance(c, mode);
  });
});

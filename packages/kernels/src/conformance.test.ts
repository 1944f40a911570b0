/**
 * The conformance suite of @gpunet/tensor (`@gpunet/tensor/conformance`) for every mode in
 * GPUNET_MODES (default `cpu,webasm`; headlessgl under `xvfb-run -a`), each with its tolerance
 * (test/modes.ts). A mode that cannot start fails every test of the mode; it is never skipped.
 * The browser modes run the same suite through test/browser.
 */
import * as T from '@gpunet/tensor';
import { checkConformance, conformanceCases } from '@gpunet/tensor/conformance';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startMode, TOLERANCE } from '../test/modes.js';
import type { GpuMode } from './index.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm').split(',').filter(Boolean) as GpuMode[];

for (const mode of MODES) {
  describe(`gpu.js ${mode} conforms to the reference backend`, () => {
    beforeAll(() => startMode(mode));
    for (const c of conformanceCases) {
      it(
        c.name,
        () =>
          // Several modes in one process: the reference results are computed once, for the first.
          checkConformance(c, mode, {
            tolerance: TOLERANCE[mode],
            reuseReference: MODES.length > 1,
          }),
        // AlexNet's layers on the first mode also compute the float64 reference (conv2: 1.3 G
        // multiply-adds over three passes), and gpu.js's cpu mode runs them as plain JavaScript:
        // 85-185 s beside the other packages' tests in CI, over the 120 s default.
        c.isLarge ? 600_000 : undefined,
      );
    }
  });
}

afterAll(async () => {
  await T.setBackend('reference');
});

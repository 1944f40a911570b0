/**
 * The conformance suite (src/conformance/suite.ts) for every mode in GPUNET_MODES (default
 * `cpu,webasm`; headlessgl under `xvfb-run -a`). A mode that cannot start fails every test of
 * the mode; it is never skipped. The browser modes run the same suite through test/browser.
 */
import * as T from '@gpunet/tensor';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CASES, checkCase, startMode } from './conformance/suite.js';
import './index.js';
import type { GpuMode } from './index.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm').split(',').filter(Boolean) as GpuMode[];

for (const mode of MODES) {
  describe(`gpu.js ${mode} conforms to the reference backend`, () => {
    beforeAll(() => startMode(mode));
    for (const c of CASES) it(c.name, () => checkCase(mode, c));
  });
}

afterAll(async () => {
  await T.setBackend('reference');
});

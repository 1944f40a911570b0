/**
 * `@gpunet/tensor/conformance`: the conformance suite every backend runs, written once. Each
 * case is an op (or a short chain of ops) on seeded inputs, computed forward and backward on the
 * backend under test and on the reference backend, and compared element by element. The cases
 * reach every kernel of kernel-names.ts, at AlexNet's real layer shapes (batch 1) and at small
 * odd shapes.
 *
 * Framework-free and asynchronous (results are read with `await t.data()`), so one suite runs
 * under vitest and in a browser page, on every backend:
 *
 * ```ts
 * it.each(conformanceCases)('$name', (c) => checkConformance(c, 'wasm'));
 * ```
 */
export {
  type ConformanceCase,
  type ConformanceInput,
  conformanceCases,
} from './conformance/cases.js';
export {
  type ConformanceOptions,
  checkConformance,
  FLOAT32_TOLERANCE,
} from './conformance/check.js';

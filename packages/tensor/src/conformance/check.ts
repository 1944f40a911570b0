/**
 * Runs a conformance case on a backend and on the reference backend and compares them. No test
 * framework: a difference throws an Error naming the case, the backend and what differs, so the
 * same code runs under vitest in Node and in a plain browser page.
 */
import * as T from '../index.js';
import { assertClose, type Tolerance } from '../testing.js';
import type { ConformanceCase, ConformanceInput } from './cases.js';

/**
 * Tolerance for a backend that computes in IEEE float32 (the reference accumulates in float64).
 * The error of a sum of K float32 products grows like sqrt(K) ulps of the terms, and with K up to
 * 9216 (fc6) and 2400 (conv2's taps) summed in a different order (blocked GEMM, SIMD lanes, 4
 * accumulators) that stays under 1e-4 relative to the largest element of the result: hence
 * atol 1e-4 scaled by that magnitude, and rtol 1e-4. A backend that loses precision (GPU
 * transcendentals, float texture coordinates) passes its own, justified, in `tolerance`.
 */
export const FLOAT32_TOLERANCE: Required<Tolerance> = { atol: 1e-4, rtol: 1e-4 };

/** Options of `checkConformance`. */
export interface ConformanceOptions {
  /**
   * The backend's tolerance. An element passes when
   * `|actual - expected| <= atol * max(1, max|expected|) + rtol * |expected|`, the maximum taken
   * over the compared array (output or one gradient): a long sum's rounding scales with the
   * magnitude of its terms, not with the (possibly cancelled) result. Default `FLOAT32_TOLERANCE`.
   */
  tolerance?: Tolerance;
  /**
   * Keep the reference backend's results of each case in memory and reuse them the next time
   * the case is checked (about 300 MB for the AlexNet cases): for a process that checks
   * several backends in turn. Default false: computed again on each call.
   */
  reuseReference?: boolean;
}

/** What a case produced on one backend: the output and the gradient of every input. */
interface CaseResult {
  shape: readonly number[];
  output: ArrayLike<number>;
  /** null where the input has no gradient (integer inputs, forward-only cases). */
  gradients: (ArrayLike<number> | null)[];
}

/** The input's values, from a generator seeded by the input's position alone. */
function inputValues(spec: ConformanceInput, seed: number): Float32Array | Int32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const generator = new T.Generator(seed);
  const high = spec.high ?? 1;
  if (spec.isInteger)
    return Int32Array.from({ length: n }, () => Math.floor(generator.uniform() * high));
  const low = spec.low ?? -1;
  return Float32Array.from({ length: n }, () => low + (high - low) * generator.uniform());
}

/**
 * Runs `c` on the current backend: the output, then the gradients of `sum(output * cotangent)`
 * for a seeded cotangent. Reads asynchronously (`await t.data()`), so any backend can run it,
 * and disposes every tensor it made, also when the backend throws.
 */
async function runCase(c: ConformanceCase): Promise<CaseResult> {
  const inputs: T.Tensor[] = [];
  let results: T.Tensor[] = [];
  try {
    c.inputs.forEach((spec, k) => {
      const values = inputValues(spec, 1000 + k);
      const dtype = spec.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
      const t = T.tensor(values, spec.shape, { dtype });
      if (!c.isForwardOnly && dtype === 'float32') t.requiresGrad = true;
      inputs.push(t);
    });
    results = T.tidy(() => {
      const y = c.f(...inputs);
      if (c.isForwardOnly || !y.requiresGrad) return [y];
      const cotangent = T.tensor(inputValues({ shape: [...y.shape] }, 7), y.shape);
      T.sum(T.mul(y, cotangent)).backward();
      return [y, ...inputs.flatMap((x) => (x.grad ? [x.grad] : []))];
    });
    const [output, ...gradients] = await Promise.all(results.map((t) => t.data()));
    let next = 0;
    return {
      shape: results[0].shape,
      output,
      gradients: inputs.map((x) => (x.grad ? gradients[next++] : null)),
    };
  } finally {
    T.dispose([...results, ...inputs]);
  }
}

const referenceResults = new WeakMap<ConformanceCase, Promise<CaseResult>>();

async function referenceResult(c: ConformanceCase, reuse: boolean): Promise<CaseResult> {
  const cached = reuse ? referenceResults.get(c) : undefined;
  if (cached) return cached;
  const result = (async () => {
    await T.setBackend('reference');
    return runCase(c);
  })();
  if (reuse) {
    referenceResults.set(c, result);
    result.catch(() => referenceResults.delete(c));
  }
  return result;
}

/** Largest finite magnitude in `values`, at least 1. */
function magnitude(values: ArrayLike<number>): number {
  let m = 1;
  for (let k = 0; k < values.length; k++) {
    const v = Math.abs(values[k]);
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

/**
 * Runs one case on `backend` and on the reference backend and throws unless the output's shape
 * matches and every element of the output and of each input's gradient agrees within the
 * tolerance (see `ConformanceOptions`). The message names the case, the backend and what
 * differs (`<case> on <backend>: gradient of input 1: 3 of 96 elements differ; worst at ...`).
 * Reads asynchronously, so it works on every backend (webgpu included) and in a browser.
 * Leaves the reference backend current.
 */
export async function checkConformance(
  c: ConformanceCase,
  backend: string,
  options: ConformanceOptions = {},
): Promise<void> {
  const { atol = FLOAT32_TOLERANCE.atol, rtol = FLOAT32_TOLERANCE.rtol } =
    options.tolerance ?? FLOAT32_TOLERANCE;
  const where = `${c.name} on ${backend}`;
  const naming = (on: string) => (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${c.name} on ${on}: the backend threw: ${message}`, { cause: error });
  };
  try {
    const expected = await referenceResult(c, options.reuseReference ?? false).catch(
      naming('reference'),
    );
    await T.setBackend(backend);
    const actual = await runCase(c).catch(naming(backend));
    if (actual.shape.join() !== expected.shape.join()) {
      throw new Error(
        `${where}: output shape ${T.formatShape(actual.shape)} differs from the reference's ${T.formatShape(expected.shape)}`,
      );
    }
    const compare = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) =>
      assertClose(got, want, { atol: atol * magnitude(want), rtol }, `${where}: ${what}`);
    compare(actual.output, expected.output, 'output');
    expected.gradients.forEach((want, k) => {
      const got = actual.gradients[k];
      if (want === null || got === null) {
        if (want !== got)
          throw new Error(
            `${where}: gradient of input ${k} is ${got ? 'present' : 'missing'} on ${backend} only`,
          );
        return;
      }
      compare(got, want, `gradient of input ${k}`);
    });
  } finally {
    await T.setBackend('reference');
  }
}

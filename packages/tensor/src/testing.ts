/**
 * Test helpers for gpunet packages and their users: closeness assertions that report where and
 * by how much values differ, and a finite-difference gradient checker. Framework-agnostic: they
 * throw an Error with a readable message, so they work under vitest, jest or node:test.
 */
import { noGrad, tidy } from './engine.js';
import { formatShape } from './errors.js';
import { shapesEqual } from './internal/shape.js';
import { fromValues } from './ops/creation.js';
import { mul } from './ops/elementwise.js';
import { sum } from './ops/reduce.js';
import { Generator } from './random.js';
import { Tensor } from './tensor.js';

/** Tolerances: values pass when `|actual - expected| <= atol + rtol * |expected|`. */
export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/** Where two arrays differ most, or null when every element is within tolerance. */
export function compareValues(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5 }: Tolerance = {},
): { index: number; actual: number; expected: number; mismatches: number } | null {
  if (actual.length !== expected.length) {
    return {
      index: -1,
      actual: actual.length,
      expected: expected.length,
      mismatches: Math.max(actual.length, expected.length),
    };
  }
  let worst = -1;
  let worstExcess = 0;
  let mismatches = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue; // also equal infinities
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0)) {
      mismatches++;
      if (worst < 0 || !(excess <= worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  return worst < 0
    ? null
    : { index: worst, actual: actual[worst], expected: expected[worst], mismatches };
}

/** Throws unless `actual` equals `expected` within tolerance, naming the worst element. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance = {},
  what = 'values',
): void {
  const diff = compareValues(actual, expected, tolerance);
  if (!diff) return;
  if (diff.index < 0)
    throw new Error(`${what}: length ${diff.actual} differs from expected length ${diff.expected}`);
  throw new Error(
    `${what}: ${diff.mismatches} of ${actual.length} elements differ; worst at index ${diff.index}: ` +
      `${diff.actual} vs expected ${diff.expected} (atol ${tolerance.atol ?? 1e-5}, rtol ${tolerance.rtol ?? 1e-5})`,
  );
}

/** Reads a tensor and throws unless its shape and values match `expected` (a tensor or values). */
export async function expectTensorClose(
  actual: Tensor,
  expected: Tensor | ArrayLike<number>,
  tolerance: Tolerance = {},
  what = 'tensor',
): Promise<void> {
  if (expected instanceof Tensor && !shapesEqual(actual.shape, expected.shape)) {
    throw new Error(
      `${what}: shape ${formatShape(actual.shape)} differs from expected ${formatShape(expected.shape)}`,
    );
  }
  const expectedValues = expected instanceof Tensor ? await expected.data() : expected;
  assertClose(
    await actual.data(),
    expectedValues,
    tolerance,
    `${what} ${formatShape(actual.shape)}`,
  );
}

/** Options of `gradcheck`. */
export interface GradcheckOptions extends Tolerance {
  /** Finite-difference step. Default 1e-2 (float32 forward passes: smaller steps drown in rounding). */
  eps?: number;
  /** Check at most this many elements per input, spread evenly. Default: all. */
  maxElements?: number;
  /** Seed of the random projection of the output. Default 0. */
  seed?: number;
}

/**
 * Checks the gradients that `backward()` gives for `f` against central finite differences, for
 * every float32 input. The output is projected onto a fixed random direction r, so the checked
 * scalar is `L = sum(r * f(inputs))`, accumulated in float64 on the host. Throws naming the
 * input, element, analytic and numeric values when they disagree.
 *
 * Inputs must be away from kinks (relu at 0, ties in max) for finite differences to be valid.
 */
export async function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): Promise<void> {
  const {
    eps = 1e-2,
    atol = 1e-3,
    rtol = 1e-2,
    maxElements = Number.POSITIVE_INFINITY,
    seed = 0,
  } = options;
  const values = await Promise.all(inputs.map((t) => t.data()));
  const out = noGrad(() => f(...inputs));
  const generator = new Generator(seed);
  const r = new Float64Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = generator.uniform() * 2 - 1;
  out.dispose();

  // Analytic gradients: backward of sum(r * f(x)) on fresh leaf copies of the inputs.
  const leaves = inputs.map((t, i) => {
    const leaf = fromValues(values[i].slice(), t.shape, t.dtype, t.backend);
    if (t.dtype === 'float32') leaf.requiresGrad = true;
    return leaf;
  });
  tidy(() => {
    const y = f(...leaves);
    const loss = sum(mul(y, fromValues(Float32Array.from(r), y.shape, 'float32', y.backend)));
    loss.backward();
  });
  const analytic = await Promise.all(
    leaves.map((l) => (l.grad ? l.grad.data() : Promise.resolve(null))),
  );

  const objective = async (position: number, element: number, delta: number): Promise<number> => {
    const perturbed = values.map((v, i) => {
      const copy = v.slice();
      if (i === position) copy[element] += delta;
      return fromValues(copy, inputs[i].shape, inputs[i].dtype, inputs[i].backend);
    });
    const y = noGrad(() => f(...perturbed));
    const yv = await y.data();
    y.dispose();
    for (const p of perturbed) p.dispose();
    let acc = 0;
    for (let i = 0; i < yv.length; i++) acc += r[i] * yv[i];
    return acc;
  };

  for (let position = 0; position < inputs.length; position++) {
    if (inputs[position].dtype !== 'float32') continue;
    const size = inputs[position].size;
    const count = Math.min(size, maxElements);
    for (let c = 0; c < count; c++) {
      const element = count === size ? c : Math.floor((c * size) / count);
      const numeric =
        ((await objective(position, element, eps)) - (await objective(position, element, -eps))) /
        (2 * eps);
      const grad = analytic[position];
      const value = grad ? grad[element] : 0;
      if (!(Math.abs(value - numeric) <= atol + rtol * Math.abs(numeric))) {
        for (const l of leaves) l.dispose();
        throw new Error(
          `gradcheck: input ${position} ${formatShape(inputs[position].shape)} element ${element}: ` +
            `backward gives ${value}, finite differences give ${numeric} (atol ${atol}, rtol ${rtol})`,
        );
      }
    }
  }
  for (const l of leaves) l.dispose();
}

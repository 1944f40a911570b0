import type { Backend } from '../backend.js';
import { getBackend, makeTensor } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { sizeOf } from '../internal/shape.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { DType, NestedArray, Shape, TypedArray } from '../types.js';

/** Options of the creation functions. */
export interface CreationOptions {
  /** Element type; defaults to float32 (int32 for an Int32Array). */
  dtype?: DType;
}

/** Options of `rand` and `randn`. */
export interface RandomOptions {
  /** Where the numbers come from; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/** @internal Checks a shape given by the user. */
export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(
      `${op}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
}

/** @internal Uploads host values as a new tensor on `backend` (the current one by default). */
export function fromValues(
  values: TypedArray,
  shape: Shape,
  dtype: DType,
  backend: Backend = getBackend(),
): Tensor {
  const typed =
    dtype === 'int32'
      ? values instanceof Int32Array
        ? values
        : new Int32Array(values)
      : values instanceof Float32Array
        ? values
        : new Float32Array(values);
  return makeTensor(backend.write(typed, shape, dtype), shape, dtype, backend);
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== 'number')
      throw new ShapeError(`tensor: nested arrays are ragged (expected a number at depth ${dim})`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError(
      `tensor: nested arrays are ragged: expected ${shape[dim]} items at depth ${dim}, shape ${formatShape(shape)}`,
    );
  }
  for (const item of data) flattenInto(item, shape, dim + 1, out);
}

/**
 * A tensor from values: nested arrays (shape inferred), a flat array or typed array with a
 * shape, or a number (a scalar). Like `torch.tensor` / `tf.tensor`.
 *
 * @example tensor([[1, 2], [3, 4]]); tensor(new Float32Array(6), [2, 3]); tensor([0, 2], [2], { dtype: 'int32' })
 */
export function tensor(
  data: NestedArray | TypedArray | readonly number[],
  shape?: Shape,
  options: CreationOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data;
    inferred = [data.length];
  } else {
    const values: number[] = [];
    inferred = inferShape(data as NestedArray);
    flattenInto(data as NestedArray, inferred, 0, values);
    flat = values;
  }
  const finalShape = shape ?? inferred;
  checkShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(
      `tensor: ${flat.length} values cannot fill shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`,
    );
  }
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new DTypeError(`tensor: unknown dtype '${String(dtype)}'`);
  // The backend's `write` copies, so a typed array of the right dtype is handed over as is; other
  // inputs are converted once (the typed-array constructors are much faster than `.from`).
  const values =
    dtype === 'int32'
      ? flat instanceof Int32Array
        ? flat
        : new Int32Array(flat)
      : flat instanceof Float32Array
        ? flat
        : new Float32Array(flat);
  return fromValues(values, finalShape, dtype);
}

/** A rank-0 tensor holding one number. */
export function scalar(value: number, options: CreationOptions = {}): Tensor {
  return tensor(value, [], options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: CreationOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = options.dtype ?? 'float32';
  const values =
    dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  values.fill(value);
  return fromValues(values, shape, dtype);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: CreationOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: CreationOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros shaped like `t`, on its backend, with its dtype. */
export function zerosLike(t: Tensor): Tensor {
  return fullLike(t, 0);
}

/** Ones shaped like `t`, on its backend, with its dtype. */
export function onesLike(t: Tensor): Tensor {
  return fullLike(t, 1);
}

/** `value` everywhere, shaped like `t`, on its backend, with its dtype. */
export function fullLike(t: Tensor, value: number): Tensor {
  const values = t.dtype === 'int32' ? new Int32Array(t.size) : new Float32Array(t.size);
  values.fill(value);
  return fromValues(values, t.shape, t.dtype, t.backend);
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`, like `torch.arange`:
 * `arange(5)` or `arange(1, 2, 0.25)`. int32 when every argument is an integer.
 */
export function arange(
  start: number,
  end?: number,
  step = 1,
  options: CreationOptions = {},
): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw new RangeError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const values = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return fromValues(values, [n], dtype);
}

/** Uniform random values in [0, 1), seeded: the same numbers on every backend. */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('rand', shape);
  const generator = options.generator ?? defaultGenerator;
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = generator.uniform();
  return fromValues(values, shape, 'float32');
}

/** Standard normal random values, seeded: the same numbers on every backend. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const generator = options.generator ?? defaultGenerator;
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = generator.normal();
  return fromValues(values, shape, 'float32');
}

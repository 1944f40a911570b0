import { formatShape, ShapeError } from '../errors.js';
import type { Shape } from '../types.js';

/** Number of elements in a tensor of this shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: `strides[i]` is how far one step along dim i moves in the flat buffer. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Turns a possibly negative dim into 0..rank-1, or throws naming the op. */
export function normalizeDim(op: string, dim: number, rank: number): number {
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= Math.max(rank, 1)) {
    throw new ShapeError(`${op}: dim ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return d;
}

/** Normalizes `dim` (one, several or all when undefined), sorted and without repeats. */
export function normalizeDims(
  op: string,
  dim: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (dim === undefined) return Array.from({ length: rank }, (_, i) => i);
  const dims = (typeof dim === 'number' ? [dim] : dim).map((d) => normalizeDim(op, d, rank));
  const unique = [...new Set(dims)].sort((a, b) => a - b);
  if (unique.length !== dims.length) {
    throw new ShapeError(`${op}: dim ${formatShape(dims)} names a dimension twice`);
  }
  return unique;
}

/** NumPy broadcasting of two shapes, or a ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dim ${i - rank} is ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** True when two shapes are the same. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Expands `n` or `[h, w]` into a pair, checking it is made of non-negative integers. */
export function pair(
  op: string,
  name: string,
  value: number | readonly number[],
  min = 0,
): [number, number] {
  const p: number[] = typeof value === 'number' ? [value, value] : [...value];
  if (p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < min)) {
    throw new ShapeError(
      `${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return [p[0], p[1]];
}

/**
 * How many windows fit along one axis of a convolution or pooling: PyTorch's
 * `pooling_output_shape` (conv's formula is the same without `ceilMode`), including its rule that
 * with `ceilMode` the last window must start inside the input or the left padding.
 */
export function windowCount(
  size: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
  ceilMode = false,
): number {
  const span = dilation * (kernel - 1) + 1;
  const numerator = size + padBefore + padAfter - span + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(numerator / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padBefore) out--;
  return out;
}

import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { normalizeDim, normalizeDims, shapesEqual, sizeOf } from '../internal/shape.js';
import type { ReduceKernelName } from '../kernel-names.js';
import type { Tensor } from '../tensor.js';
import type { Shape } from '../types.js';
import { div, equal, mul } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';

function keptShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

function reduce(kernel: ReduceKernelName, x: Tensor, dims: number[], keepdim: boolean): Tensor {
  const y = runKernel(kernel, [x], { dims }, (dy, y) => {
    const kept = keptShape(x.shape, dims);
    if (kernel === 'Sum') return [broadcastTo(reshape(dy, kept), x.shape)];
    // Max/Min: the gradient is shared evenly among the elements equal to the extreme (PyTorch amax/amin).
    const mask = equal(x, broadcastTo(reshape(y, kept), x.shape));
    const count = sum(mask, dims, true);
    return [mul(broadcastTo(reshape(div(dy, reshape(count, dy.shape)), kept), x.shape), mask)];
  });
  return keepdim ? reshape(y, keptShape(x.shape, dims)) : y;
}

/** Sum over `dim` (one, several, or all when omitted), like `torch.sum`. */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return reduce('Sum', x, normalizeDims('sum', dim, x.rank), keepdim);
}

/** Mean over `dim` (one, several, or all when omitted), like `torch.mean`. float32 only. */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  if (x.dtype !== 'float32') throw new DTypeError(`mean: expects a float32 tensor, got ${x.dtype}`);
  const dims = normalizeDims('mean', dim, x.rank);
  const count = sizeOf(dims.map((d) => x.shape[d]));
  return div(sum(x, dims, keepdim), count);
}

/** Maximum over `dim` (one, several, or all when omitted): the values, like `torch.amax`. */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims('max', dim, x.rank);
  checkNotEmpty('max', x, dims);
  return reduce('Max', x, dims, keepdim);
}

/** Minimum over `dim` (one, several, or all when omitted): the values, like `torch.amin`. */
export function min(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims('min', dim, x.rank);
  checkNotEmpty('min', x, dims);
  return reduce('Min', x, dims, keepdim);
}

function checkNotEmpty(op: string, x: Tensor, dims: readonly number[]): void {
  if (dims.some((d) => x.shape[d] === 0) || x.size === 0) {
    throw new ShapeError(`${op}: cannot reduce an empty tensor ${formatShape(x.shape)}`);
  }
}

/**
 * Index (int32) of the first maximum along `dim`, like `torch.argmax`; over the flattened
 * tensor when `dim` is omitted.
 */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [x.size]);
    const i = argmax(flat, 0);
    return keepdim
      ? reshape(
          i,
          x.shape.map(() => 1),
        )
      : i;
  }
  const d = normalizeDim('argmax', dim, x.rank);
  checkNotEmpty('argmax', x, [d]);
  const y = runKernel('ArgMax', [x], { dim: d });
  return keepdim ? reshape(y, keptShape(x.shape, [d])) : y;
}

/**
 * @internal Sums a broadcast gradient back to `shape`: over the leading dims that broadcasting
 * added and over the dims where `shape` has 1.
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  return reshape(sum(g, dims), shape);
}

import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { broadcastShapes, normalizeDim, shapesEqual, sizeOf } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import type { DType, Shape } from '../types.js';
import { sumTo } from './reduce.js';

/**
 * The same values in a new shape (one dim may be -1 and is inferred), sharing the buffer,
 * like `torch.reshape`.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(
      `reshape: invalid shape ${formatShape(shape)} (at most one -1, other dims >= 0)`,
    );
  }
  let out = [...shape];
  if (inferred === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(
        `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
      );
    }
    out = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeOf(out) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
    );
  }
  return x.alias(out, 'reshape');
}

/** Flattens dims `startDim..endDim` into one, like `torch.flatten`. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.rank);
  const e = normalizeDim('flatten', endDim, x.rank);
  if (s > e)
    throw new ShapeError(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for ${formatShape(x.shape)}`,
    );
  return reshape(x, [
    ...x.shape.slice(0, s),
    sizeOf(x.shape.slice(s, e + 1)),
    ...x.shape.slice(e + 1),
  ]);
}

/** Inserts a dim of size 1 at `dim`, like `torch.unsqueeze`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('unsqueeze', dim, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Removes dims of size 1 (only `dim` when given), like `torch.squeeze`. */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const d = normalizeDim('squeeze', dim, x.rank);
  return x.shape[d] === 1
    ? reshape(
        x,
        x.shape.filter((_, i) => i !== d),
      )
    : reshape(x, x.shape);
}

/** Reorders the dims: output dim i is input dim `dims[i]`, like `torch.permute`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const perm = dims.map((d) => normalizeDim('permute', d, x.rank));
  if (perm.length !== x.rank || new Set(perm).size !== x.rank) {
    throw new ShapeError(
      `permute: dims ${formatShape(dims)} are not a permutation of the ${x.rank} dims of ${formatShape(x.shape)}`,
    );
  }
  if (perm.every((d, i) => d === i)) return reshape(x, x.shape);
  const inverse = new Array<number>(perm.length);
  perm.forEach((d, i) => {
    inverse[d] = i;
  });
  return runKernel('Transpose', [x], { perm }, (dy) => [permute(dy, inverse)]);
}

/** Swaps two dims, like `torch.transpose(x, dim0, dim1)`. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeDim('transpose', dim0, x.rank);
  const b = normalizeDim('transpose', dim1, x.rank);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Repeats size-1 dims (and adds leading dims) to reach `shape`, like `torch.broadcast_to`. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(target, shape)) {
    throw new ShapeError(
      `broadcastTo: ${formatShape(x.shape)} cannot be broadcast to ${formatShape(shape)}`,
    );
  }
  if (shapesEqual(x.shape, shape)) return reshape(x, shape);
  return runKernel('BroadcastTo', [x], { shape: [...shape] }, (dy) => [sumTo(dy, x.shape)]);
}

/** Converts to another dtype; float to int truncates toward zero, like PyTorch. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new DTypeError(`cast: unknown dtype '${String(dtype)}'`);
  if (dtype === x.dtype) return reshape(x, x.shape);
  return runKernel('Cast', [x], { dtype });
}

import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { broadcastShapes, sizeOf } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import { add } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';

/**
 * @internal `[B, M, K] x [B, K, N] -> [B, M, N]`, each side optionally transposed in its last
 * two dims; the batch sizes must be equal. The gradient of each case is another case.
 */
export function batchMatMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  const [batchA, rowsA, colsA] = a.shape;
  const [batchB, rowsB, colsB] = b.shape;
  const k = transposeA ? rowsA : colsA;
  const kB = transposeB ? colsB : rowsB;
  if (a.rank !== 3 || b.rank !== 3 || batchA !== batchB || k !== kB) {
    throw new ShapeError(
      `matmul: ${formatShape(a.shape)}${transposeA ? 'ᵀ' : ''} and ${formatShape(b.shape)}${transposeB ? 'ᵀ' : ''} ` +
        `do not fit (inner dims ${k} vs ${kB})`,
    );
  }
  // Only the gradients an input needs are computed: a frozen weight (requiresGrad false) or a
  // constant input costs no product in backward (PyTorch skips them the same way).
  return runKernel('BatchMatMul', [a, b], { transposeA, transposeB }, (dy) => {
    let da: () => Tensor;
    let db: () => Tensor;
    if (!transposeA && !transposeB) {
      da = () => batchMatMul(dy, b, false, true);
      db = () => batchMatMul(a, dy, true, false);
    } else if (!transposeA && transposeB) {
      da = () => batchMatMul(dy, b, false, false);
      db = () => batchMatMul(dy, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => batchMatMul(b, dy, false, true);
      db = () => batchMatMul(a, dy, false, false);
    } else {
      da = () => batchMatMul(b, dy, true, true);
      db = () => batchMatMul(dy, a, true, true);
    }
    return [a.requiresGrad ? da() : null, b.requiresGrad ? db() : null];
  });
}

/**
 * Matrix product with `torch.matmul`'s semantics: 1-D operands are promoted to a row (left) or
 * a column (right) and the added dim is removed; dims before the last two are batch dims and
 * broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new DTypeError(`matmul: expects float32 tensors, got ${a.dtype} and ${b.dtype}`);
  }
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(
      `matmul: both arguments need at least 1 dim, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const [m, k] = a2.shape.slice(-2);
  const [k2, n] = b2.shape.slice(-2);
  if (k !== k2) {
    throw new ShapeError(
      `matmul: ${formatShape(a.shape)} @ ${formatShape(b.shape)}: inner dims ${k} and ${k2} differ`,
    );
  }
  const batch = broadcastShapes('matmul', a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const batchSize = sizeOf(batch);
  const a3 = reshape(broadcastTo(a2, [...batch, m, k]), [batchSize, m, k]);
  const b3 = reshape(broadcastTo(b2, [...batch, k, n]), [batchSize, k, n]);
  const outShape = [...batch, ...(a.rank === 1 ? [] : [m]), ...(b.rank === 1 ? [] : [n])];
  return reshape(batchMatMul(a3, b3), outShape);
}

/**
 * `x Wᵀ + b` over the last dim of x, like `torch.nn.functional.linear`:
 * x `[..., in]`, weight `[out, in]`, bias `[out]` -> `[..., out]`.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2)
    throw new ShapeError(`linear: weight must be [out, in], got ${formatShape(weight.shape)}`);
  const [outFeatures, inFeatures] = weight.shape;
  if (x.rank === 0 || x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: input ${formatShape(x.shape)} has ${x.shape[x.rank - 1] ?? 0} features but weight ` +
        `${formatShape(weight.shape)} expects ${inFeatures}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(
      `linear: bias ${formatShape(bias.shape)} does not match weight ${formatShape(weight.shape)}; expected [${outFeatures}]`,
    );
  }
  const rows = x.size / inFeatures;
  const y = batchMatMul(
    reshape(x, [1, rows, inFeatures]),
    reshape(weight, [1, outFeatures, inFeatures]),
    false,
    true,
  );
  const out = reshape(y, [...x.shape.slice(0, -1), outFeatures]);
  return bias ? add(out, bias) : out;
}

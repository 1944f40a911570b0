import { getKernel } from '../backend.js';
import { isGradEnabled, runKernel } from '../engine.js';
import { DTypeError, formatShape } from '../errors.js';
import { broadcastShapes } from '../internal/shape.js';
import type { BinaryKernelName, UnaryKernelName } from '../kernel-names.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { fromValues } from './creation.js';
import { sumTo } from './reduce.js';

function unary(
  kernel: UnaryKernelName,
  op: string,
  x: Tensor,
  grad: ((dy: Tensor, x: Tensor, y: Tensor) => Tensor) | null,
  allowInt = false,
): Tensor {
  if (x.dtype !== 'float32' && !allowInt) {
    throw new DTypeError(
      `${op}: expects a float32 tensor, got ${x.dtype}; convert it with .cast('float32')`,
    );
  }
  return runKernel(kernel, [x], {}, (dy, y) => [grad ? grad(dy, x, y) : null]);
}

/** `-x` */
export function neg(x: Tensor): Tensor {
  return unary('Neg', 'neg', x, (dy) => neg(dy), true);
}

/** `e^x` */
export function exp(x: Tensor): Tensor {
  return unary('Exp', 'exp', x, (dy, _x, y) => mul(dy, y));
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary('Log', 'log', x, (dy, x) => div(dy, x));
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary('Sqrt', 'sqrt', x, (dy, _x, y) => div(dy, mul(y, 2)));
}

/** `|x|`; its gradient at 0 is 0, as in PyTorch. */
export function abs(x: Tensor): Tensor {
  return unary('Abs', 'abs', x, (dy, x) => mul(dy, sign(x)), true);
}

/** -1, 0 or 1 by the sign of x (no gradient). */
export function sign(x: Tensor): Tensor {
  return unary('Sign', 'sign', x, null, true);
}

/** `max(x, 0)`; its gradient at 0 is 0, as in PyTorch. */
export function relu(x: Tensor): Tensor {
  // The gradient reads the output (y > 0 exactly where x > 0), so the input need not be kept.
  return unary('Relu', 'relu', x, (dy, _x, y) => reluGrad(dy, y));
}

/**
 * @internal ReLU's gradient from its output: dy where y > 0, else 0 (PyTorch's
 * `threshold_backward`). One pass where the backend has the `ReluGrad` kernel (reference, wasm,
 * gpu.js), else `dy * step(y)` (which differs only where dy is infinite or NaN and y is not
 * positive).
 */
export function reluGrad(dy: Tensor, y: Tensor): Tensor {
  if (getKernel('ReluGrad', y.backend.name)) return runKernel('ReluGrad', [dy, y], {});
  return mul(dy, step(y));
}

/**
 * `relu(x)` that frees x's buffer once the output is computed, as PyTorch's in-place
 * `relu_(x)` (`nn.ReLU(inplace=True)`) overwrites it: a training step then holds one activation
 * per ReLU instead of two. x can no longer be read (reading it, or an op or gradient that needs
 * it, throws), so use it only where nothing else needs x, e.g. right after a convolution or a
 * linear layer, whose gradients do not read their output. Throws for a leaf that requires grad.
 */
export function reluInplace(x: Tensor): Tensor {
  if (x.gradFn === null && x.requiresGrad) {
    throw new Error(
      `reluInplace: tensor ${x.id} ${formatShape(x.shape)} is a leaf that requires grad; freeing it would lose the parameter (use relu)`,
    );
  }
  const y = relu(x);
  x.releaseBuffer();
  return y;
}

/** @internal 1 where x > 0, else 0 (no gradient). */
export function step(x: Tensor): Tensor {
  return unary('Step', 'step', x, null);
}

/** `1 / (1 + e^-x)` */
export function sigmoid(x: Tensor): Tensor {
  return unary('Sigmoid', 'sigmoid', x, (dy, _x, y) => mul(dy, mul(y, sub(1, y))));
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary('Tanh', 'tanh', x, (dy, _x, y) => mul(dy, sub(1, mul(y, y))));
}

const FLOAT_ONLY: ReadonlySet<BinaryKernelName> = new Set(['Div', 'Pow']);

function binary(
  kernel: BinaryKernelName,
  op: string,
  aLike: TensorLike,
  bLike: TensorLike,
  grad: ((dy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null]) | null,
): Tensor {
  if (typeof aLike === 'number' && typeof bLike === 'number') {
    throw new TypeError(`${op}: at least one argument must be a Tensor`);
  }
  const like = (typeof aLike === 'number' ? bLike : aLike) as Tensor;
  const a = typeof aLike === 'number' ? scalarLike(aLike, like) : aLike;
  const b = typeof bLike === 'number' ? scalarLike(bLike, like) : bLike;
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${op}: dtypes differ (${a.dtype} and ${b.dtype}); convert one with .cast()`,
    );
  }
  if (a.dtype !== 'float32' && FLOAT_ONLY.has(kernel)) {
    throw new DTypeError(
      `${op}: expects float32 tensors, got ${a.dtype}; convert with .cast('float32')`,
    );
  }
  broadcastShapes(op, a.shape, b.shape);
  return runKernel(kernel, [a, b], {}, (dy, y) => {
    if (!grad) return [null, null];
    const [da, db] = grad(dy, a, b, y);
    // An input that needs no gradient gets no reduction either (a frozen bias costs nothing).
    return [
      da && a.requiresGrad ? sumTo(da, a.shape) : null,
      db && b.requiresGrad ? sumTo(db, b.shape) : null,
    ];
  });
}

function scalarLike(value: number, like: Tensor): Tensor {
  const dtype = like.dtype === 'int32' && Number.isInteger(value) ? 'int32' : 'float32';
  return fromValues(
    dtype === 'int32' ? Int32Array.of(value) : Float32Array.of(value),
    [],
    dtype,
    like.backend,
  );
}

/** `a + b` with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('Add', 'add', a, b, (dy) => [dy, dy]);
}

/**
 * `weights[0] * tensors[0] + weights[1] * tensors[1] + ...` over float32 tensors of one shape, in
 * one pass where the backend has the fused kernel (`WeightedSum`: reference, wasm), else as
 * multiplies and adds. What an optimizer's update is made of (SGD's
 * `v = m v - lr wd w - lr g` is one call instead of five ops and four temporaries).
 */
export function weightedSum(tensors: readonly Tensor[], weights: readonly number[]): Tensor {
  if (tensors.length === 0 || tensors.length !== weights.length) {
    throw new RangeError(
      `weightedSum: expected one weight per tensor and at least one tensor, got ${tensors.length} tensors and ${weights.length} weights`,
    );
  }
  const [first] = tensors;
  tensors.forEach((t, k) => {
    if (t.dtype !== 'float32')
      throw new DTypeError(`weightedSum: tensor ${k} is ${t.dtype}; expected float32`);
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new RangeError(
        `weightedSum: tensor ${k} has shape ${formatShape(t.shape)}, tensor 0 ${formatShape(first.shape)}; expected one shape`,
      );
    }
  });
  if (!getKernel('WeightedSum', first.backend.name)) {
    // The partial sums are freed at once unless the gradient runs through them.
    const free = !isGradEnabled() || !tensors.some((t) => t.requiresGrad);
    let total = mul(first, weights[0]);
    for (let k = 1; k < tensors.length; k++) {
      const term = mul(tensors[k], weights[k]);
      const next = add(total, term);
      if (free) {
        total.dispose();
        term.dispose();
      }
      total = next;
    }
    return total;
  }
  return runKernel('WeightedSum', tensors, { weights: [...weights] }, (dy) =>
    tensors.map((t, k) => (t.requiresGrad ? mul(dy, weights[k]) : null)),
  );
}

/** `a - b` with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('Sub', 'sub', a, b, (dy, _a, b) => [dy, b.requiresGrad ? neg(dy) : null]);
}

/** `a * b` with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('Mul', 'mul', a, b, (dy, a, b) => [
    a.requiresGrad ? mul(dy, b) : null,
    b.requiresGrad ? mul(dy, a) : null,
  ]);
}

/** `a / b` with broadcasting (true division; float32 only). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('Div', 'div', a, b, (dy, a, b, y) => [
    a.requiresGrad ? div(dy, b) : null,
    b.requiresGrad ? neg(div(mul(dy, y), b)) : null,
  ]);
}

/** `a ^ b` with broadcasting (float32 only). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary('Pow', 'pow', a, b, (dy, a, b, y) => [
    a.requiresGrad ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
    b.requiresGrad ? mul(dy, mul(y, log(a))) : null,
  ]);
}

/** Elementwise maximum; where a == b the gradient is split evenly, as in PyTorch. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('Maximum', 'maximum', a, b, (dy, a, b) => {
    const tie = mul(equal(a, b), 0.5);
    return [mul(dy, add(greater(a, b), tie)), mul(dy, add(less(a, b), tie))];
  });
}

/** Elementwise minimum; where a == b the gradient is split evenly, as in PyTorch. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('Minimum', 'minimum', a, b, (dy, a, b) => {
    const tie = mul(equal(a, b), 0.5);
    return [mul(dy, add(less(a, b), tie)), mul(dy, add(greater(a, b), tie))];
  });
}

/** 1 where a == b, else 0, as float32 (no gradient). */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return binary('Equal', 'equal', a, b, null);
}

/** 1 where a > b, else 0, as float32 (no gradient). */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return binary('Greater', 'greater', a, b, null);
}

/** 1 where a < b, else 0, as float32 (no gradient). */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return binary('Less', 'less', a, b, null);
}

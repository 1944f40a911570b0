import { noGrad, type Tensor } from '@gpunet/tensor';

const parameters = new WeakSet<Tensor>();

/**
 * A parameter: a `Tensor` made by `parameter()`, which requires grad and is kept out of every
 * `tidy`. The name is for readability (`weight: Parameter`); at run time it is a plain tensor,
 * and `isParameter(t)` tells one apart.
 */
export type Parameter = Tensor;

/** Options of `parameter`. */
export interface ParameterOptions {
  /** Whether the optimizer trains it (PyTorch `requires_grad`). Default true. */
  requiresGrad?: boolean;
}

/**
 * Makes `value` a parameter, like PyTorch's `nn.Parameter(value)`: a float32 leaf tensor that
 * requires grad, is kept out of every `tidy` (it lives until `dispose()`), and that `Module`
 * finds among its attributes. A tensor that is already a leaf becomes the parameter itself (no
 * copy); one with a gradient graph is detached first (sharing its buffer).
 *
 * A Parameter is a plain `Tensor` with a mark, not a subclass: tensors are made by the engine
 * and ops accept parameters everywhere a tensor goes.
 */
export function parameter(value: Tensor, options: ParameterOptions = {}): Parameter {
  const leaf = value.isLeaf ? value : noGrad(() => value.detach());
  leaf.keep();
  leaf.requiresGrad = options.requiresGrad ?? true;
  parameters.add(leaf);
  return leaf;
}

/** True for tensors made by `parameter()`. */
export function isParameter(value: unknown): value is Parameter {
  return typeof value === 'object' && value !== null && parameters.has(value as Tensor);
}

import { add, mul, sub, type Tensor } from '@gpunet/tensor';
import {
  checkNonNegative,
  Optimizer,
  type ParamState,
  type ParamsOrGroups,
  type ResolvedGroup,
} from './optimizer.js';

/** Options of `SGD`, with PyTorch's names and defaults. */
export interface SGDOptions {
  /** Learning rate (AlexNet: 0.01, divided by 10 on plateaus). */
  lr: number;
  /** Momentum factor m. Default 0 (AlexNet: 0.9). */
  momentum: number;
  /** Dampening of the gradient in the momentum sum ('pytorch' rule only). Default 0. */
  dampening: number;
  /** L2 penalty wd added to the gradient. Default 0 (AlexNet: 0.0005). */
  weightDecay: number;
  /** Nesterov momentum. Default false. */
  nesterov: boolean;
  /**
   * The update rule:
   * - 'pytorch' (default, `torch.optim.SGD`): `g' = g + wd w; v = m v + (1 - dampening) g'`
   *   (v = g' on the first step); `w -= lr v` (Nesterov: `w -= lr (g' + m v)`).
   * - 'paper' (Krizhevsky et al. 2012, section 5): `v = m v - wd lr w - lr g; w += v`
   *   (v = 0 before the first step; Nesterov, in Sutskever et al.'s form: `w += m v - lr (g + wd w)`).
   *
   * The two give the same weights while lr is constant; they differ once lr changes, because
   * the paper's velocity already carries the old learning rate and PyTorch's does not.
   */
  rule: 'pytorch' | 'paper';
}

const DEFAULTS: Omit<SGDOptions, 'lr'> = {
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  rule: 'pytorch',
};

/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay; see `SGDOptions.rule`. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsOrGroups<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { ...DEFAULTS, ...options });
  }

  protected validate(group: ResolvedGroup<SGDOptions>): void {
    checkNonNegative('SGD', 'lr', group.lr);
    checkNonNegative('SGD', 'momentum', group.momentum);
    checkNonNegative('SGD', 'weightDecay', group.weightDecay);
    checkNonNegative('SGD', 'dampening', group.dampening);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
    if (group.rule !== 'pytorch' && group.rule !== 'paper')
      throw new RangeError(`SGD: rule must be 'pytorch' or 'paper', got '${String(group.rule)}'`);
    if (group.rule === 'paper' && group.dampening !== 0)
      throw new RangeError("SGD: dampening is not defined for rule 'paper'");
  }

  protected update(
    w: Tensor,
    g: Tensor,
    group: ResolvedGroup<SGDOptions>,
    state: ParamState,
  ): Tensor {
    const { lr, momentum: m, dampening, weightDecay: wd, nesterov, rule } = group;
    // Each temporary is freed as soon as it is used, not when step()'s tidy ends: a large layer
    // (AlexNet's fc6 is 151 MB) then needs three temporaries at a time, not six.
    const grad = wd !== 0 ? consume(mul(w, wd), (t) => add(g, t)) : g;
    const freeGrad = () => {
      if (grad !== g) grad.dispose();
    };
    if (rule === 'paper') {
      const step = mul(grad, lr);
      freeGrad();
      if (m === 0) return consume(step, (s) => sub(w, s));
      const previous = state.velocity as Tensor | undefined;
      const v = previous ? consume(mul(previous, m), (t) => sub(t, step)) : mul(step, -1);
      state.velocity = v;
      if (nesterov) return consume(step, (s) => consume(mul(v, m), (t) => sub(add(w, t), s)));
      step.dispose();
      return add(w, v);
    }
    if (m === 0) {
      const next = consume(mul(grad, lr), (t) => sub(w, t));
      freeGrad();
      return next;
    }
    const previous = state.momentumBuffer as Tensor | undefined;
    const buffer = previous
      ? consume(mul(previous, m), (t) => consume(mul(grad, 1 - dampening), (u) => add(t, u)))
      : mul(grad, 1);
    state.momentumBuffer = buffer;
    const direction = nesterov ? consume(mul(buffer, m), (t) => add(grad, t)) : buffer;
    freeGrad();
    const next = consume(mul(direction, lr), (t) => sub(w, t));
    if (direction !== buffer) direction.dispose();
    return next;
  }
}

/** `fn(t)`, then frees t (a temporary of the update). */
function consume(t: Tensor, fn: (t: Tensor) => Tensor): Tensor {
  const result = fn(t);
  t.dispose();
  return result;
}

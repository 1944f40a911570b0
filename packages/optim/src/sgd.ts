import { type Tensor, weightedSum } from '@gpunet/tensor';
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
    // Each update is one or two weighted sums (one pass over memory each, where the backend
    // fuses them): no temporaries beyond the new velocity and the new weight (AlexNet's fc6 is
    // 151 MB). Terms with a zero weight are left out. g' = g + wd w throughout.
    const sum = (terms: [Tensor, number][]) => {
      const nonzero = terms.filter(([, k]) => k !== 0);
      // lr = 0 with no velocity yet: a zero velocity, not an empty sum.
      const kept = nonzero.length > 0 ? nonzero : terms.slice(0, 1);
      return weightedSum(
        kept.map(([t]) => t),
        kept.map(([, k]) => k),
      );
    };
    if (m === 0)
      return sum([
        [w, 1 - lr * wd],
        [g, -lr],
      ]);
    if (rule === 'paper') {
      // v = m v - wd lr w - lr g (v = 0 before the first step); w += v, or with Nesterov
      // w += m v - lr g'.
      const previous = state.velocity as Tensor | undefined;
      const v = sum([
        ...(previous ? [[previous, m] as [Tensor, number]] : []),
        [w, -lr * wd],
        [g, -lr],
      ]);
      state.velocity = v;
      return nesterov
        ? sum([
            [w, 1 - lr * wd],
            [v, m],
            [g, -lr],
          ])
        : sum([
            [w, 1],
            [v, 1],
          ]);
    }
    // torch.optim.SGD: buf = m buf + (1 - dampening) g' (buf = g' on the first step);
    // w -= lr buf, or with Nesterov w -= lr (g' + m buf).
    const previous = state.momentumBuffer as Tensor | undefined;
    const buffer = previous
      ? sum([
          [previous, m],
          [g, 1 - dampening],
          [w, (1 - dampening) * wd],
        ])
      : sum([
          [g, 1],
          [w, wd],
        ]);
    state.momentumBuffer = buffer;
    return nesterov
      ? sum([
          [w, 1 - lr * wd],
          [g, -lr],
          [buffer, -lr * m],
        ])
      : sum([
          [w, 1],
          [buffer, -lr],
        ]);
  }
}

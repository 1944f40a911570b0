import { add, div, maximum, mul, sqrt, sub, type Tensor } from '@gpunet/tensor';
import {
  checkNonNegative,
  Optimizer,
  type ParamState,
  type ParamsOrGroups,
  type ResolvedGroup,
} from './optimizer.js';

/** Options of `Adam` and `AdamW`, with PyTorch's names and defaults. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** Decay rates of the first and second moment averages. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (Reddi et al. 2018). Default false. */
  amsgrad: boolean;
}

/**
 * Adam (Kingma and Ba 2015) with PyTorch's formulas (`torch.optim.Adam`): with t the step,
 * `g' = g + wd w; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)` (amsgrad: v replaced by the running max).
 */
export class Adam extends Optimizer<AdamOptions> {
  /** Whether weight decay is decoupled (AdamW) rather than added to the gradient (Adam). */
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsOrGroups<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      ...options,
    });
  }

  protected validate(group: ResolvedGroup<AdamOptions>): void {
    const name = this.constructor.name;
    checkNonNegative(name, 'lr', group.lr);
    checkNonNegative(name, 'eps', group.eps);
    checkNonNegative(name, 'weightDecay', group.weightDecay);
    group.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1))
        throw new RangeError(`${name}: betas[${i}] must be in [0, 1), got ${b}`);
    });
  }

  protected update(
    w: Tensor,
    g: Tensor,
    group: ResolvedGroup<AdamOptions>,
    state: ParamState,
  ): Tensor {
    const {
      lr,
      betas: [b1, b2],
      eps,
      weightDecay: wd,
      amsgrad,
    } = group;
    const t = ((state.step as number | undefined) ?? 0) + 1;
    state.step = t;
    let weights = w;
    let grad = g;
    if (wd !== 0) {
      if (this.decoupled) weights = mul(w, 1 - lr * wd);
      else grad = add(g, mul(w, wd));
    }
    const m0 = state.expAvg as Tensor | undefined;
    const v0 = state.expAvgSq as Tensor | undefined;
    const m = m0 ? add(mul(m0, b1), mul(grad, 1 - b1)) : mul(grad, 1 - b1);
    const v = v0 ? add(mul(v0, b2), mul(mul(grad, grad), 1 - b2)) : mul(mul(grad, grad), 1 - b2);
    state.expAvg = m;
    state.expAvgSq = v;
    let second = v;
    if (amsgrad) {
      const previousMax = state.maxExpAvgSq as Tensor | undefined;
      second = previousMax ? maximum(previousMax, v) : mul(v, 1);
      state.maxExpAvgSq = second;
    }
    const biasCorrection1 = 1 - b1 ** t;
    const biasCorrection2 = 1 - b2 ** t;
    const denominator = add(div(sqrt(second), Math.sqrt(biasCorrection2)), eps);
    return sub(weights, mul(div(m, denominator), lr / biasCorrection1));
  }
}

/**
 * AdamW (Loshchilov and Hutter 2019), PyTorch's `torch.optim.AdamW`: Adam whose weight decay
 * is decoupled, `w *= 1 - lr wd` before the Adam step, instead of added to the gradient.
 * Default weightDecay 1e-2.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsOrGroups<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...options });
  }
}

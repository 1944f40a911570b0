import type { Module } from '@gpunet/layers';
import { ReduceLROnPlateau, SGD } from '@gpunet/optim';

/** Options of `paperOptimizer`; the defaults are the paper's (section 5). */
export interface PaperOptimizerOptions {
  /** Initial learning rate. Default 0.01. */
  lr?: number;
  /** Default 0.9. */
  momentum?: number;
  /** Default 0.0005. */
  weightDecay?: number;
  /**
   * Epochs without a better validation error before the lr is divided by 10. The paper does not
   * say how long it waited ("when the validation error rate stopped improving"); default 1.
   */
  patience?: number;
}

/**
 * The paper's optimizer and schedule: SGD with momentum 0.9 and weight decay 0.0005 in the
 * paper's update rule (`v <- 0.9 v - 0.0005 lr w - lr g; w <- w + v`), lr 0.01, and
 * `ReduceLROnPlateau` in 'min' mode with factor 0.1, to be stepped with the validation error
 * (top-1 error rate) once per epoch. Only the parameters that require grad are optimized.
 */
export function paperOptimizer(
  model: Module,
  options: PaperOptimizerOptions = {},
): { optimizer: SGD; scheduler: ReduceLROnPlateau } {
  // Frozen parameters (requiresGrad false, e.g. after `freeze(model, ['features'])`) are left out.
  const trainable = model.parameters().filter((p) => p.requiresGrad);
  if (trainable.length === 0)
    throw new RangeError(
      'paperOptimizer: every parameter of the model is frozen (requiresGrad false)',
    );
  const optimizer = new SGD(trainable, {
    lr: options.lr ?? 0.01,
    momentum: options.momentum ?? 0.9,
    weightDecay: options.weightDecay ?? 0.0005,
    rule: 'paper',
  });
  const scheduler = new ReduceLROnPlateau(optimizer, {
    mode: 'min',
    factor: 0.1,
    patience: options.patience ?? 1,
  });
  return { optimizer, scheduler };
}

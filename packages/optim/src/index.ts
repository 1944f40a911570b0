/**
 * @gpunet/optim: optimizers over any iterable of parameter tensors (SGD with PyTorch's or the
 * AlexNet paper's update rule, Adam, AdamW), gradient clipping, and learning-rate schedules,
 * all with state dicts for exact resumes.
 */
export { Adam, type AdamOptions, AdamW } from './adam.js';
export { clipGradNorm } from './clip-grad-norm.js';
export {
  type BaseOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ParamsOrGroups,
  type ResolvedGroup,
} from './optimizer.js';
export { CosineWarmupLR, type CosineWarmupLROptions } from './schedules/cosine-warmup-lr.js';
export { LRScheduler, type SchedulerStateDict } from './schedules/lr-scheduler.js';
export { MultiStepLR, type MultiStepLROptions } from './schedules/multi-step-lr.js';
export {
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
} from './schedules/reduce-lr-on-plateau.js';
export { StepLR, type StepLROptions } from './schedules/step-lr.js';
export { SGD, type SGDOptions } from './sgd.js';

import type { BaseOptions, Optimizer } from '../optimizer.js';
import type { SchedulerStateDict } from './lr-scheduler.js';

/** Options of `ReduceLROnPlateau`, with PyTorch's names and defaults. */
export interface ReduceLROnPlateauOptions {
  /** 'min' when lower is better (loss, error rate), 'max' for accuracy. Default 'min'. */
  mode?: 'min' | 'max';
  /** Factor applied on a plateau. Default 0.1 (AlexNet: divide by 10). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing. Default 10. */
  patience?: number;
  /** How much better counts as better. Default 1e-4. */
  threshold?: number;
  /** 'rel' (default): better than best * (1 -/+ threshold); 'abs': better than best -/+ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again. Default 0. */
  cooldown?: number;
  /** Lower bound of the lr (one for all groups, or one per group). Default 0. */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped. Default 1e-8. */
  eps?: number;
}

/**
 * Divides the learning rate by 1 / factor when a metric stops improving, like
 * `torch.optim.lr_scheduler.ReduceLROnPlateau` (same counters, threshold and cooldown rules).
 * This is the AlexNet paper's schedule: "divide the learning rate by 10 when the validation
 * error rate stopped improving". Call `step(metric)` once per epoch.
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  /** Best metric so far (null before the first step). */
  best: number | null = null;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Epochs stepped. */
  lastEpoch = 0;

  constructor(
    readonly optimizer: Optimizer<BaseOptions>,
    options: ReduceLROnPlateauOptions = {},
  ) {
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    const groups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array(groups).fill(minLr);
    if (this.minLrs.length !== groups) {
      throw new RangeError(
        `ReduceLROnPlateau: minLr has ${this.minLrs.length} values for ${groups} parameter groups`,
      );
    }
    if (!(this.factor < 1 && this.factor >= 0))
      throw new RangeError(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new RangeError(
        `ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(this.mode)}'`,
      );
  }

  /** True when `value` beats `best` by the threshold (PyTorch's `is_better`). */
  isBetter(value: number, best: number | null): boolean {
    if (best === null) return true;
    const t = this.threshold;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? value < best * (1 - t) : value < best - t;
    return this.thresholdMode === 'rel' ? value > best * (1 + t) : value > best + t;
  }

  /** Records one epoch's metric and reduces the lr once more than `patience` epochs passed without improvement. */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const reduced = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - reduced > this.eps) g.lr = reduced;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Counters and best value, JSON-serializable. */
  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
    };
  }

  /** Restores counters from `stateDict()` (the lr itself lives in the optimizer's state). */
  loadStateDict(state: SchedulerStateDict): void {
    for (const key of ['numBadEpochs', 'cooldownCounter', 'lastEpoch'] as const) {
      if (typeof state[key] !== 'number')
        throw new Error(`ReduceLROnPlateau.loadStateDict: '${key}' must be a number`);
    }
    if (state.best !== null && typeof state.best !== 'number')
      throw new Error("ReduceLROnPlateau.loadStateDict: 'best' must be a number or null");
    this.best = state.best as number | null;
    this.numBadEpochs = state.numBadEpochs as number;
    this.cooldownCounter = state.cooldownCounter as number;
    this.lastEpoch = state.lastEpoch as number;
  }
}

import type { BaseOptions, Optimizer } from '../optimizer.js';
import { LRScheduler } from './lr-scheduler.js';

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor per decay. Default 0.1. */
  gamma?: number;
}

/** `lr = baseLr * gamma ^ floor(epoch / stepSize)`, like `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseOptions>, options: StepLROptions) {
    super(optimizer);
    if (!(Number.isInteger(options.stepSize) && options.stepSize > 0)) {
      throw new RangeError(`StepLR: stepSize must be a positive integer, got ${options.stepSize}`);
    }
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.apply();
  }

  protected lrAt(baseLr: number, epoch: number): number {
    return baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

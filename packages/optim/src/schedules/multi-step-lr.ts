import type { BaseOptions, Optimizer } from '../optimizer.js';
import { LRScheduler } from './lr-scheduler.js';

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (increasing). */
  milestones: number[];
  /** Factor per milestone. Default 0.1. */
  gamma?: number;
}

/**
 * `lr = baseLr * gamma ^ (number of milestones <= epoch)`, like
 * `torch.optim.lr_scheduler.MultiStepLR`: `{ milestones: [30, 60, 80] }` is the fixed-epoch
 * stand-in for AlexNet's three divisions by 10.
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseOptions>, options: MultiStepLROptions) {
    super(optimizer);
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    if (this.milestones.some((m) => !Number.isInteger(m) || m < 0)) {
      throw new RangeError(
        `MultiStepLR: milestones must be non-negative integers, got [${options.milestones.join(', ')}]`,
      );
    }
    this.gamma = options.gamma ?? 0.1;
    this.apply();
  }

  protected lrAt(baseLr: number, epoch: number): number {
    return baseLr * this.gamma ** this.milestones.filter((m) => m <= epoch).length;
  }
}

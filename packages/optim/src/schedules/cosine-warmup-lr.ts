import type { BaseOptions, Optimizer } from '../optimizer.js';
import { LRScheduler } from './lr-scheduler.js';

/** Options of `CosineWarmupLR`. */
export interface CosineWarmupLROptions {
  /** Steps of linear warm-up. Default 0. */
  warmupSteps?: number;
  /** Steps in all, warm-up included; after it the lr stays at `minLr`. */
  totalSteps: number;
  /** The lr at the first step, as a fraction of the base lr. Default 0. */
  warmupStartFactor?: number;
  /** The final lr. Default 0. */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay, the common transformer schedule (Goyal et al. 2017 for the
 * warm-up; Loshchilov and Hutter 2017, SGDR without restarts, for the cosine), with t = the step:
 * - `t < warmupSteps`: `lr = baseLr * (s + (1 - s) * t / warmupSteps)`, s = warmupStartFactor;
 * - otherwise, with `p = min(1, (t - warmupSteps) / (totalSteps - warmupSteps))`:
 *   `lr = minLr + (baseLr - minLr) * (1 + cos(pi p)) / 2`.
 * With warmupSteps 0 it equals `torch.optim.lr_scheduler.CosineAnnealingLR(T_max = totalSteps,
 * eta_min = minLr)` for t <= totalSteps. Usually stepped once per iteration.
 */
export class CosineWarmupLR extends LRScheduler {
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly warmupStartFactor: number;
  readonly minLr: number;

  constructor(optimizer: Optimizer<BaseOptions>, options: CosineWarmupLROptions) {
    super(optimizer);
    this.warmupSteps = options.warmupSteps ?? 0;
    this.totalSteps = options.totalSteps;
    this.warmupStartFactor = options.warmupStartFactor ?? 0;
    this.minLr = options.minLr ?? 0;
    if (
      !(
        Number.isInteger(this.warmupSteps) &&
        this.warmupSteps >= 0 &&
        Number.isInteger(this.totalSteps) &&
        this.totalSteps > this.warmupSteps
      )
    ) {
      throw new RangeError(
        `CosineWarmupLR: need integers 0 <= warmupSteps < totalSteps, got warmupSteps ${this.warmupSteps}, totalSteps ${this.totalSteps}`,
      );
    }
    this.apply();
  }

  protected lrAt(baseLr: number, t: number): number {
    if (t < this.warmupSteps) {
      const s = this.warmupStartFactor;
      return baseLr * (s + ((1 - s) * t) / this.warmupSteps);
    }
    const p = Math.min(1, (t - this.warmupSteps) / (this.totalSteps - this.warmupSteps));
    return this.minLr + ((baseLr - this.minLr) * (1 + Math.cos(Math.PI * p))) / 2;
  }
}

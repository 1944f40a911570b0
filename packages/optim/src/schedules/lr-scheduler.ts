import type { BaseOptions, Optimizer } from '../optimizer.js';

/** A schedule's state for an exact resume: JSON-serializable numbers only. */
export type SchedulerStateDict = Record<string, number | number[] | null>;

/**
 * The base of epoch-indexed schedules, like `torch.optim.lr_scheduler.LRScheduler`: it
 * remembers each group's initial lr (`baseLrs`) and, on every `step()`, sets each group's lr to
 * `lrAt(epoch)`, a closed form of the epoch count. Construction applies epoch 0, as PyTorch does
 * (each subclass's constructor ends with `this.apply()`, once its own fields are set).
 * Call `step()` once per epoch (or per iteration, for warm-up schedules), after `optimizer.step()`.
 */
export abstract class LRScheduler {
  /** Each group's learning rate when the schedule was made. */
  baseLrs: number[];
  /** Epochs stepped so far (0 after construction). */
  lastEpoch = 0;

  constructor(readonly optimizer: Optimizer<BaseOptions>) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of a group whose initial lr is `baseLr`, at `epoch`. */
  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Advances one epoch and updates the optimizer's learning rates. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Sets every group's lr for `lastEpoch`. */
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }

  /** The epoch count and base learning rates. */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores a state from `stateDict()` and sets the optimizer's learning rates to match. */
  loadStateDict(state: SchedulerStateDict): void {
    if (typeof state.lastEpoch !== 'number' || !Array.isArray(state.baseLrs)) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: expected lastEpoch and baseLrs, got keys ${Object.keys(state).join(', ')}`,
      );
    }
    if (state.baseLrs.length !== this.baseLrs.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: state has ${state.baseLrs.length} groups, optimizer has ${this.baseLrs.length}`,
      );
    }
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.apply();
  }
}

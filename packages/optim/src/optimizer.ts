import { formatShape, noGrad, type Tensor, tidy } from '@gpunet/tensor';

/** Options every optimizer has: the learning rate, which schedules change. */
export interface BaseOptions {
  lr: number;
}

/** A group of parameters sharing options (PyTorch `param_groups`), e.g. no weight decay on biases. */
export type ParamGroup<O extends BaseOptions> = { params: Iterable<Tensor> } & Partial<O>;

/** What an optimizer takes: parameter tensors (`model.parameters()`), or groups of them with their own options. */
export type ParamsOrGroups<O extends BaseOptions> = Iterable<Tensor> | ParamGroup<O>[];

/** A group as the optimizer holds it: every option filled in. */
export type ResolvedGroup<O extends BaseOptions> = O & { params: Tensor[] };

/** Per-parameter state: scalars (step counts) and tensors (momentum buffers). */
export type ParamState = Record<string, number | Tensor>;

/**
 * An optimizer's state, like PyTorch's `optimizer.state_dict()`: parameters are named by their
 * position across groups; scalars are JSON-serializable, buffers are tensors (write them with
 * `writeSafetensors` or read their values). The tensors share the optimizer's buffers (no copy):
 * dispose them when saved.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

function isGroupList<O extends BaseOptions>(value: ParamsOrGroups<O>): value is ParamGroup<O>[] {
  return (
    Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && 'params' in value[0]
  );
}

/**
 * The base of every optimizer, like `torch.optim.Optimizer`. A subclass implements `update`,
 * which computes one parameter's new value; `step()` runs it under `noGrad` and `tidy` for
 * every parameter that has a gradient and stores the result with `param.assign`, so a step
 * leaves no tensor behind but the new state buffers.
 */
export abstract class Optimizer<O extends BaseOptions> {
  /** The groups with their options; schedules write `lr` here. */
  readonly paramGroups: ResolvedGroup<O>[];
  /** Per-parameter state (momentum buffers, step counts), created on a parameter's first step. */
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsOrGroups<O>, defaults: O) {
    const groups: ParamGroup<O>[] = isGroupList(params) ? params : [{ params } as ParamGroup<O>];
    this.paramGroups = groups.map(
      (g) => ({ ...defaults, ...g, params: [...g.params] }) as ResolvedGroup<O>,
    );
    const seen = new Set<Tensor>();
    for (const group of this.paramGroups) {
      this.validate(group);
      for (const p of group.params) {
        if (seen.has(p))
          throw new Error(
            `${this.constructor.name}: a parameter ${formatShape(p.shape)} appears twice`,
          );
        seen.add(p);
        if (!p.isLeaf)
          throw new Error(
            `${this.constructor.name}: parameter ${formatShape(p.shape)} is not a leaf tensor`,
          );
      }
    }
    if (seen.size === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
  }

  /** Checks a group's options; throws naming the option. */
  protected abstract validate(group: ResolvedGroup<O>): void;

  /**
   * One parameter's new value from its gradient, under noGrad and tidy. Replace state entries
   * that are tensors with new ones; `step` keeps the new ones and disposes the old.
   */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    group: ResolvedGroup<O>,
    state: ParamState,
  ): Tensor;

  /** Applies one update to every parameter that has a `.grad`. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          const grad = p.grad;
          const state = this.state.get(p) ?? {};
          const previous = { ...state };
          tidy(() => {
            const next = this.update(p, grad, group, state);
            // New buffers outlive the tidy; replaced ones are freed.
            for (const [key, value] of Object.entries(state)) {
              if (typeof value !== 'number' && value !== previous[key]) value.keep();
            }
            p.assign(next);
          });
          for (const [key, value] of Object.entries(previous)) {
            if (typeof value !== 'number' && value !== state[key]) value.dispose();
          }
          this.state.set(p, state);
        }
      }
    });
  }

  /** Drops every parameter's gradient (PyTorch `zero_grad(set_to_none=True)`, the default since 2.0). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** The state to save for an exact resume; see `OptimizerStateDict`. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, ...options } = group;
      const indices: number[] = [];
      for (const p of params) {
        const s = this.state.get(p);
        if (s) {
          state[index] = Object.fromEntries(
            Object.entries(s).map(([k, v]) => [
              k,
              typeof v === 'number' ? v : noGrad(() => v.detach()),
            ]),
          );
        }
        indices.push(index++);
      }
      paramGroups.push({ ...options, params: indices });
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state from `stateDict()` of an optimizer over parameters of the same shapes, in
   * the same order. Buffers are shared with the given tensors (no copy).
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (stateDict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${name}.loadStateDict: state has ${stateDict.paramGroups.length} parameter groups, optimizer has ${this.paramGroups.length}`,
      );
    }
    const all: Tensor[] = [];
    this.paramGroups.forEach((group, g) => {
      const saved = stateDict.paramGroups[g];
      if (saved.params.length !== group.params.length) {
        throw new Error(
          `${name}.loadStateDict: group ${g} has ${saved.params.length} parameters in the state, ${group.params.length} in the optimizer`,
        );
      }
      all.push(...group.params);
    });
    for (const [key, s] of Object.entries(stateDict.state)) {
      const p = all[Number(key)];
      if (!p)
        throw new Error(
          `${name}.loadStateDict: state for parameter ${key}, but the optimizer has ${all.length}`,
        );
      for (const [k, v] of Object.entries(s)) {
        if (
          typeof v !== 'number' &&
          (v.rank !== p.rank || v.shape.some((d, i) => d !== p.shape[i]))
        ) {
          throw new Error(
            `${name}.loadStateDict: state '${k}' of parameter ${key} is ${formatShape(v.shape)} but the parameter is ${formatShape(p.shape)}`,
          );
        }
      }
    }
    for (const state of this.state.values()) {
      for (const v of Object.values(state)) if (typeof v !== 'number') v.dispose();
    }
    this.state.clear();
    for (const [key, s] of Object.entries(stateDict.state)) {
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s))
        copy[k] = typeof v === 'number' ? v : noGrad(() => v.detach()).keep();
      this.state.set(all[Number(key)], copy);
    }
    this.paramGroups.forEach((group, g) => {
      const { params: _params, ...options } = stateDict.paramGroups[g];
      Object.assign(group, options);
    });
  }

  /** Frees every state buffer (momentum, moments). The optimizer starts fresh after this. */
  dispose(): void {
    for (const state of this.state.values()) {
      for (const v of Object.values(state)) if (typeof v !== 'number') v.dispose();
    }
    this.state.clear();
  }
}

/** @internal Throws unless `value` is a finite number >= 0, naming the optimizer and option. */
export function checkNonNegative(optimizer: string, option: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${optimizer}: ${option} must be a finite number >= 0, got ${value}`);
}

import {
  cast,
  formatShape,
  noGrad,
  type Shape,
  ShapeError,
  type Tensor,
  tidy,
  zeros,
} from '@gpunet/tensor';
import { isParameter } from './parameter.js';
import {
  type LoadStateDictResult,
  type StateDict,
  StateDictError,
  type StateDictLike,
  toStateDictMap,
} from './state-dict.js';
import {
  formatSummary,
  type ModelSummary,
  type SummaryOptions,
  type SummaryRow,
} from './summary.js';

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /**
   * When true (the default), any missing key, unexpected key or shape mismatch throws a
   * `StateDictError` listing them all and nothing is loaded. When false, every matching key is
   * loaded and the rest is reported in the result.
   */
  strict?: boolean;
}

/**
 * A forward hook (PyTorch `register_forward_hook`): called by `Module.call` after `forward` with
 * the module, its inputs and its output. Returning a tensor replaces the output; returning
 * nothing keeps it. Tensors it wants to keep beyond the surrounding `tidy` must be `keep()`-ed or
 * returned from that `tidy`.
 */
export type ForwardHook = (
  module: Module,
  inputs: readonly Tensor[],
  output: Tensor,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing (`() => {}`) must type-check, as in PyTorch.
) => Tensor | undefined | void;

/**
 * A forward pre-hook (PyTorch `register_forward_pre_hook`): called by `Module.call` before
 * `forward` with the module and its inputs. Returning an array of tensors replaces the inputs;
 * returning nothing keeps them.
 */
export type ForwardPreHook = (
  module: Module,
  inputs: readonly Tensor[],
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing (`() => {}`) must type-check, as in PyTorch.
) => Tensor[] | undefined | void;

let nextHookId = 0;

/** What `registerForwardHook` and `registerForwardPreHook` return (PyTorch `RemovableHandle`). */
export interface RemovableHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

/**
 * The base of every layer and model, like PyTorch's `nn.Module`. Subclasses assign parameters
 * (`parameter(...)`) and child modules to attributes; their names become the state-dict keys
 * (`features.0.weight`), in assignment order. An attribute holding an array of modules names
 * its items `name.0`, `name.1`, ...
 */
export abstract class Module {
  /** True in training mode (dropout active), false after `eval()`. */
  isTraining = true;
  private readonly buffers = new Map<string, Tensor>();
  // Keyed by a counter, so the same function registered twice runs twice and is removed once.
  private readonly forwardHooks = new Map<number, ForwardHook>();
  private readonly forwardPreHooks = new Map<number, ForwardPreHook>();

  /**
   * Computes the output. Run it inside `tidy` (training steps) or `noGrad` (evaluation). A
   * module calls its children with `child.call(x)`, not `child.forward(x)`, so that their hooks
   * run (as PyTorch's `module(x)` versus `module.forward(x)`).
   */
  abstract forward(input: Tensor, ...rest: Tensor[]): Tensor;

  /**
   * Runs the forward pre-hooks, `forward`, then the forward hooks, in registration order; reads
   * like PyTorch's `module(x)`. Without hooks it is `forward`.
   */
  call(input: Tensor, ...rest: Tensor[]): Tensor {
    if (this.forwardHooks.size === 0 && this.forwardPreHooks.size === 0) {
      return this.forward(input, ...rest);
    }
    let inputs: Tensor[] = [input, ...rest];
    for (const hook of [...this.forwardPreHooks.values()]) {
      const replaced = hook(this, inputs);
      if (replaced) {
        if (replaced.length === 0) {
          throw new RangeError(`${this.typeName}: a forward pre-hook returned no inputs`);
        }
        inputs = replaced;
      }
    }
    const [first, ...others] = inputs as [Tensor, ...Tensor[]];
    let output = this.forward(first, ...others);
    for (const hook of [...this.forwardHooks.values()])
      output = hook(this, inputs, output) ?? output;
    return output;
  }

  /**
   * True when a forward hook or pre-hook is registered: `Sequential` then runs this module on
   * its own (a hook must see the module's own input and output), not fused with its neighbour.
   */
  get hasHooks(): boolean {
    return this.forwardHooks.size > 0 || this.forwardPreHooks.size > 0;
  }

  /**
   * Registers `hook` to run after every `call` of this module (PyTorch
   * `register_forward_hook`), e.g. to read a layer's activations or time it; returns a handle
   * whose `remove()` unregisters it.
   */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    const id = nextHookId++;
    this.forwardHooks.set(id, hook);
    return { remove: () => void this.forwardHooks.delete(id) };
  }

  /**
   * Registers `hook` to run before every `call` of this module (PyTorch
   * `register_forward_pre_hook`); returns a handle whose `remove()` unregisters it.
   */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    const id = nextHookId++;
    this.forwardPreHooks.set(id, hook);
    return { remove: () => void this.forwardPreHooks.delete(id) };
  }

  /** The layer's name in summaries and messages; the class name by default. */
  get typeName(): string {
    return this.constructor.name;
  }

  /**
   * Registers a tensor that is saved in the state dict but not trained (PyTorch
   * `register_buffer`), such as running statistics. It is kept out of every tidy.
   */
  registerBuffer(name: string, value: Tensor): void {
    value.keep();
    this.buffers.get(name)?.dispose();
    this.buffers.set(name, value);
  }

  /** The direct children, `[name, module]`, in attribute order. */
  namedChildren(): [string, Module][] {
    const children: [string, Module][] = [];
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Module) children.push([name, value]);
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) children.push([`${name}.${i}`, item]);
        });
      }
    }
    return children;
  }

  /** The direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** This module's own parameters (not its children's), `[name, tensor]`, in attribute order. */
  ownParameters(): [string, Tensor][] {
    return Object.entries(this).filter((entry): entry is [string, Tensor] => isParameter(entry[1]));
  }

  /** Every parameter with its state-dict key, this module's first, then each child's. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    // A parameter shared by two modules (tied weights) is listed once, under its first name, as in PyTorch.
    const seen = new Set<Tensor>();
    for (const [name, module] of this.namedModules(prefix)) {
      for (const [key, p] of module.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([name ? `${name}.${key}` : key, p]);
      }
    }
    return out;
  }

  /** Every parameter, as an optimizer takes them. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every registered buffer with its state-dict key. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, module] of this.namedModules(prefix)) {
      for (const [key, b] of module.buffers) out.push([name ? `${name}.${key}` : key, b]);
    }
    return out;
  }

  /**
   * Calls `fn` on every descendant and then on this module (PyTorch `apply`), e.g. for a custom
   * init: `model.apply((m) => { if (m instanceof Linear) m.bias?.assign(init.constant(m.bias.shape, 1)); })`
   * (run it under `noGrad`).
   */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Sets `requiresGrad` on every parameter of this module and its descendants (PyTorch
   * `Module.requires_grad_`): `model.features.requiresGrad_(false)` freezes them, so backward
   * computes no gradient for them and `paperOptimizer` leaves them out. Returns this.
   */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Drops the `.grad` of every parameter (PyTorch `zero_grad()`, which sets them to None). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Sets training mode on this module and every descendant (PyTorch `train()`). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.isTraining = mode;
    return this;
  }

  /** Sets evaluation mode (dropout off) on this module and every descendant. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by PyTorch key, in PyTorch's order (each module's parameters, then
   * its buffers, then its children). The tensors are the live ones, not copies.
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [name, module] of this.namedModules()) {
      const key = (k: string) => (name ? `${name}.${k}` : k);
      for (const [k, p] of module.ownParameters()) out.set(key(k), p);
      for (const [k, b] of module.buffers) out.set(key(k), b);
    }
    return out;
  }

  /**
   * Copies values from a state dict (from `readSafetensors`, `readPth` or another module's
   * `stateDict()`) into this module's parameters and buffers, matched by key. int32 values
   * loaded into float32 parameters are converted. The loaded tensors' buffers are shared, not
   * copied: dispose the state dict's tensors when done, the parameters keep their data.
   */
  loadStateDict(stateDict: StateDictLike, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const source = toStateDictMap(stateDict);
    const target = this.stateDict();
    const result: LoadStateDictResult = {
      missingKeys: [],
      unexpectedKeys: [],
      mismatched: [],
      loaded: [],
    };
    for (const key of target.keys()) if (!source.has(key)) result.missingKeys.push(key);
    for (const key of source.keys()) if (!target.has(key)) result.unexpectedKeys.push(key);
    const pairs: [Tensor, Tensor][] = [];
    for (const [key, own] of target) {
      const value = source.get(key);
      if (!value) continue;
      const sameShape = value.rank === own.rank && value.shape.every((d, i) => d === own.shape[i]);
      if (!sameShape) result.mismatched.push({ key, expected: own.shape, got: value.shape });
      else {
        pairs.push([own, value]);
        result.loaded.push(key);
      }
    }
    const problems = describeProblems(result);
    if (strict && problems.length > 0) {
      throw new StateDictError(`loadStateDict: ${problems.join('; ')}`, { ...result, loaded: [] });
    }
    noGrad(() => {
      for (const [own, value] of pairs) {
        if (value.dtype === own.dtype) own.assign(value);
        else {
          const converted = cast(value, own.dtype);
          own.assign(converted);
          converted.dispose();
        }
      }
    });
    return result;
  }

  /**
   * Runs a zero input of `inputShape` (batch included, e.g. `[1, 3, 227, 227]`) through the
   * model and reports, for every leaf module in call order, its output shape and parameter
   * count, like Keras's `model.summary()`. The rows come from forward hooks, so a leaf
   * appears when its parent calls it with `call` (not `forward`). Prints the table with `options.print` (console.log
   * by default; pass `null` to stay silent) and returns the rows and totals.
   */
  summary(inputShape: Shape, options: SummaryOptions = {}): ModelSummary {
    const rows: SummaryRow[] = [];
    const leaves = this.namedModules().filter(([, m]) => m.children().length === 0);
    const handles = leaves.map(([name, module]) =>
      module.registerForwardHook((_, __, y) => {
        rows.push({
          name,
          type: module.typeName,
          outputShape: [...y.shape],
          params: module.ownParameters().reduce((n, [, p]) => n + p.size, 0),
        });
      }),
    );
    const wasTraining = this.isTraining;
    try {
      this.eval();
      tidy(() =>
        noGrad(() => {
          this.call(zeros(inputShape));
        }),
      );
    } catch (error) {
      const last =
        rows.length > 0
          ? `after ${rows[rows.length - 1].name} ${formatShape(rows[rows.length - 1].outputShape)}`
          : 'at the first layer';
      throw new ShapeError(
        `summary: input ${formatShape(inputShape)} failed ${last}: ${(error as Error).message}`,
      );
    } finally {
      for (const handle of handles) handle.remove();
      this.train(wasTraining);
    }
    const parameters = this.parameters();
    const result: ModelSummary = {
      inputShape: [...inputShape],
      rows,
      totalParams: parameters.reduce((n, p) => n + p.size, 0),
      trainableParams: parameters.filter((p) => p.requiresGrad).reduce((n, p) => n + p.size, 0),
    };
    const print = options.print === undefined ? console.log : options.print;
    print?.(formatSummary(result));
    return result;
  }
}

function describeProblems(result: LoadStateDictResult): string[] {
  const problems: string[] = [];
  if (result.missingKeys.length > 0)
    problems.push(`missing keys: ${result.missingKeys.join(', ')}`);
  if (result.unexpectedKeys.length > 0)
    problems.push(`unexpected keys: ${result.unexpectedKeys.join(', ')}`);
  if (result.mismatched.length > 0) {
    problems.push(
      `shape mismatches: ${result.mismatched
        .map(
          (m) =>
            `${m.key} is ${formatShape(m.expected)} in the model but ${formatShape(m.got)} in the state dict`,
        )
        .join(', ')}`,
    );
  }
  return problems;
}

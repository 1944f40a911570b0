/**
 * Fine-tuning a pretrained AlexNet (torchvision's recipe, "Finetuning Torchvision Models"):
 * load the pretrained weights into a model built for the new class count, with the classifier's
 * last layer re-initialized when the counts differ, and freeze the modules that should not train.
 */
import { Linear, type Module, type StateDictLike } from '@gpunet/layers';
import type { Tensor } from '@gpunet/tensor';

/** What `loadPretrained` did. */
export interface LoadPretrainedResult {
  /** Module path of the classifier's last layer (the head), e.g. `classifier.6`. */
  head: string;
  /** Classes of the head in the pretrained weights. */
  pretrainedClasses: number;
  /** Classes of the model (the head's outputs now). */
  numClasses: number;
  /** True when the counts differ: the head keeps the model's fresh initialization. */
  replacedHead: boolean;
}

/** Module path of the last `Linear` of a model (AlexNet's fc8, `classifier.6`). */
export function headPath(model: Module): string {
  const linears = model.namedModules().filter(([, m]) => m instanceof Linear);
  const last = linears.at(-1);
  if (!last) throw new Error('headPath: the model has no Linear layer');
  return last[0];
}

/**
 * Loads pretrained weights (from `readPth`, `readSafetensors` or `loadWeights`) into `model`,
 * built for the new task's class count (`alexnet({ variant: 'torchvision', numClasses: 5 })`).
 * Every tensor must match, as with a strict `loadStateDict`, except the head's (the last
 * `Linear`, fc8) when its output count differs: then the head keeps the model's own fresh
 * initialization, as torchvision's recipe replaces `model.classifier[6]` with a new `Linear`.
 * Throws a `StateDictError` listing every other missing, unexpected or mismatched key, and then
 * loads nothing.
 */
export function loadPretrained(model: Module, weights: StateDictLike): LoadPretrainedResult {
  const head = headPath(model);
  const source: ReadonlyMap<string, Tensor> =
    weights instanceof Map ? weights : new Map(Object.entries(weights));
  const own = model.stateDict();
  const numClasses = own.get(`${head}.weight`)?.shape[0] ?? 0;
  const given = source.get(`${head}.weight`);
  const pretrainedClasses = given?.shape[0] ?? numClasses;
  const replacedHead = given !== undefined && pretrainedClasses !== numClasses;
  // The head's own tensors stand in for the pretrained ones, so that one strict load checks
  // every other key and shape, and loads nothing when anything else is wrong.
  const merged = new Map(source);
  if (replacedHead)
    for (const [key, value] of own) if (key.startsWith(`${head}.`)) merged.set(key, value);
  model.loadStateDict(merged);
  return { head, pretrainedClasses, numClasses, replacedHead };
}

/**
 * Freezes the modules at `paths` (`features`, `classifier.1`, ...) with `requiresGrad_(false)`:
 * backward computes no gradient for their parameters and `paperOptimizer` leaves them out.
 * Throws naming an unknown path and the model's top-level modules. Returns the frozen
 * parameter count.
 */
export function freeze(model: Module, paths: readonly string[]): number {
  const modules = new Map(model.namedModules());
  let count = 0;
  for (const path of paths) {
    const module = modules.get(path);
    if (!module || path === '') {
      const top = model
        .namedChildren()
        .map(([n]) => n)
        .join(', ');
      throw new RangeError(
        `freeze: the model has no module '${path}' (its top-level modules: ${top}; deeper ones are dotted, e.g. features.0)`,
      );
    }
    module.requiresGrad_(false);
    for (const p of module.parameters()) count += p.size;
  }
  return count;
}

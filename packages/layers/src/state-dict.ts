import type { Tensor } from '@gpunet/tensor';

/** Tensors by PyTorch state-dict key (`features.0.weight`), in registration order. */
export type StateDict = Map<string, Tensor>;

/** A state dict as a Map or a plain object of tensors. */
export type StateDictLike = StateDict | Readonly<Record<string, Tensor>>;

/** A key whose tensor has another shape (or dtype) than the module's. */
export interface ShapeMismatch {
  key: string;
  /** The module's shape. */
  expected: readonly number[];
  /** The state dict's shape. */
  got: readonly number[];
}

/** What `Module.loadStateDict` did, like PyTorch's `_IncompatibleKeys` plus mismatches. */
export interface LoadStateDictResult {
  /** Keys the module has and the state dict lacks. */
  missingKeys: string[];
  /** Keys the state dict has and the module lacks. */
  unexpectedKeys: string[];
  /** Keys whose shapes differ; left as they were. */
  mismatched: ShapeMismatch[];
  /** Keys loaded. */
  loaded: string[];
}

/** Thrown by a strict `loadStateDict`; the message lists every offending key and shape. */
export class StateDictError extends Error {
  override name = 'StateDictError';
  constructor(
    message: string,
    readonly result: LoadStateDictResult,
  ) {
    super(message);
  }
}

/** A Map view of a state dict given as a Map or a plain object. */
export function toStateDictMap(stateDict: StateDictLike): StateDict {
  return stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
}

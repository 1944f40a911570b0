import type { OnnxGraph } from './onnx/read.js';
import type { StateDict } from './state-dict.js';

/** An entry a reader left out, and why. */
export interface SkippedEntry {
  key: string;
  reason: string;
}

/** What the weights readers return. */
export interface WeightsFile {
  /** The tensors by key, in file order; pass to `Module.loadStateDict`. Dispose them when done. */
  tensors: StateDict;
  /** Entries not loaded (non-tensor values, int64 tensors with `int64: 'skip'`). */
  skipped: SkippedEntry[];
  /** String metadata (safetensors `__metadata__`, ONNX `metadata_props`); empty for .pth. */
  metadata: Record<string, string>;
  /**
   * For `.onnx` files: the graph as a chain of layers (`readOnnx`), whose Conv and Gemm weights
   * are the tensors above; load it into a model with `loadOnnx`, which pairs layers by structure
   * rather than by initializer name.
   */
  onnx?: OnnxGraph;
}

/** Thrown on a malformed, truncated or unsupported weights file; the message names the part or key. */
export class WeightsFormatError extends Error {
  override name = 'WeightsFormatError';
}

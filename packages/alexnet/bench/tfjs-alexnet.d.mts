import type * as tf from '@tensorflow/tfjs-core';

/** A tensor's values and shape, in PyTorch's layout. */
export interface WeightArray {
  values: Float32Array;
  shape: number[];
}

/** AlexNet from TF.js ops with the given weights (see tfjs-alexnet.mjs). */
export function tfjsAlexNet(
  variant: 'paper' | 'torchvision',
  weights: Map<string, WeightArray>,
  options?: { trainable?: boolean },
): { forward(x: tf.Tensor4D): tf.Tensor2D; variables: tf.Tensor[]; dispose(): void };

/** A module's state dict as plain arrays. */
export function stateDictArrays(model: {
  stateDict(): Map<string, { data(): Promise<unknown>; readonly shape: readonly number[] }>;
}): Promise<Map<string, WeightArray>>;

/**
 * Looking inside a forward pass, built on `Module`'s forward hooks (as PyTorch users do with
 * `register_forward_hook`): a layer's activations, the feature maps of several layers in one
 * pass, and per-module timings.
 */
import { type Module, ReLU } from '@gpunet/layers';
import { noGrad, reshape, type Tensor, tidy } from '@gpunet/tensor';
import type { AlexNet, AlexNetLayerName } from './alexnet.js';

/**
 * The module path whose output is `layer`'s activations: for `conv1` .. `conv5`, `fc6`, `fc7`
 * the ReLU right after the layer (`conv1` -> `features.1`), for `fc8` the layer itself (the
 * logits); any other string must be a module path (`features.3`, `avgpool`) and is returned
 * as is. Throws a RangeError listing the paths when there is no such module.
 */
export function activationPath(model: AlexNet, layer: AlexNetLayerName | string): string {
  const modules = model.namedModules().filter(([path]) => path !== '');
  const learned = model.layerPaths;
  if (layer in learned) {
    const path = learned[layer as AlexNetLayerName];
    const at = modules.findIndex(([p]) => p === path);
    const next = modules[at + 1];
    // instanceof, not the class name: a minifying bundler may rename classes.
    return next && next[1] instanceof ReLU ? next[0] : path;
  }
  if (!modules.some(([p]) => p === layer)) {
    throw new RangeError(
      `AlexNet: no layer or module '${layer}'; the layers are ${Object.keys(learned).join(', ')} and the modules ${modules.map(([p]) => p).join(', ')}`,
    );
  }
  return layer;
}

/**
 * Runs one eval-mode forward pass of `images` (`[C, H, W]` or `[N, C, H, W]`) without autograd
 * and returns the activations of each of `layers` (names as `activationPath` takes them), by
 * the name asked for. The caller owns (and disposes) the returned tensors; everything else of
 * the pass is freed. The model's train/eval mode is restored.
 */
export function featureMaps(
  model: AlexNet,
  images: Tensor,
  layers: readonly (AlexNetLayerName | string)[],
): Map<string, Tensor> {
  const paths = layers.map((layer) => activationPath(model, layer));
  const modules = new Map(model.namedModules());
  const captured = new Map<string, Tensor>();
  const handles = [...new Set(paths)].map((path) =>
    (modules.get(path) as Module).registerForwardHook((_, __, output) => {
      captured.set(path, output);
    }),
  );
  const wasTraining = model.isTraining;
  model.eval();
  try {
    const outputs = noGrad(() =>
      tidy(() => {
        model.call(images.rank === 3 ? reshape(images, [1, ...images.shape]) : images);
        return paths.map((path) => captured.get(path) as Tensor);
      }),
    );
    return new Map(layers.map((layer, i) => [layer, outputs[i] as Tensor]));
  } finally {
    for (const handle of handles) handle.remove();
    model.train(wasTraining);
  }
}

/**
 * The activations of one layer for one image or a batch, in eval mode: `conv1` .. `conv5`,
 * `fc6`, `fc7` give the layer's output after its ReLU (conv1's 96 maps `[N, 96, 55, 55]` in the
 * paper variant; fc7's 4096 features `[N, 4096]`, the usual image descriptor), `fc8` the logits;
 * any module path (`features.3`, `avgpool`) gives that module's output. The caller disposes it.
 */
export function features(model: AlexNet, images: Tensor, layer: AlexNetLayerName | string): Tensor {
  return featureMaps(model, images, [layer]).get(layer) as Tensor;
}

/** One leaf module's call in `layerTimings`. */
export interface LayerTiming {
  /** Module path, e.g. `features.0`. */
  path: string;
  /** Module type, e.g. `Conv2d`. */
  type: string;
  /** Output shape. */
  shape: readonly number[];
  /** Milliseconds from the module's pre-hook to its hook (its `forward`). */
  ms: number;
}

/** Options of `layerTimings`. */
export interface LayerTimingsOptions {
  /**
   * Called on each module's output before its clock stops, e.g. `(t) => t.dataSync()`, so that
   * a backend that queues device work (gpu.js, webgpu) is timed with it. Default: none, which
   * times what `forward` itself does.
   */
  sync?: (output: Tensor) => void;
}

/**
 * Runs one eval-mode forward pass of `input` without autograd, timing every leaf module with a
 * forward pre-hook and a forward hook, and returns the output (the caller disposes it) and the
 * timings in call order. The model's train/eval mode is restored.
 */
export function layerTimings(
  model: AlexNet,
  input: Tensor,
  options: LayerTimingsOptions = {},
): { output: Tensor; timings: LayerTiming[] } {
  const timings: LayerTiming[] = [];
  const handles = model
    .namedModules()
    .filter(([, m]) => m.children().length === 0)
    .flatMap(([path, module]) => {
      let start = 0;
      return [
        module.registerForwardPreHook(() => {
          start = performance.now();
        }),
        module.registerForwardHook((_, __, output) => {
          options.sync?.(output);
          timings.push({
            path,
            type: module.typeName,
            shape: output.shape,
            ms: performance.now() - start,
          });
        }),
      ];
    });
  const wasTraining = model.isTraining;
  model.eval();
  try {
    const output = noGrad(() => tidy(() => model.call(input)));
    return { output, timings };
  } finally {
    for (const handle of handles) handle.remove();
    model.train(wasTraining);
  }
}

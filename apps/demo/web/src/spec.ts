/**
 * What a weights file is: the AlexNet variant, its sizes, class names and input preprocessing,
 * read from the file's gpunet metadata when it has it (the CLI's and this page's .safetensors)
 * and otherwise from the tensors' shapes (a torchvision or paper .pth, a foreign .safetensors).
 */
import {
  type AlexNetOptions,
  type AlexNetVariant,
  IMAGENET_CLASSES,
  outputSize,
  resolveAlexNetOptions,
} from '@gpunet/alexnet';

/** A tensor as the weights worker hands it over: host values and shape. */
export interface RawTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A weights file read into host memory. */
export interface RawWeights {
  /** The file's name, for messages. */
  name: string;
  /** Its size in bytes. */
  bytes: number;
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
  /**
   * For an `.onnx` file: what its graph says that the tensors' shapes cannot (the input size, and
   * the LRN constants and ceil-mode pooling of Caffe's AlexNet).
   */
  graph?: Pick<ModelSpec['model'], 'inputSize' | 'lrn' | 'ceilMode'>;
}

/** Everything needed to rebuild a model and feed it, as the CLI's `model.safetensors` stores it. */
export interface ModelSpec {
  model: {
    variant: AlexNetVariant;
    numClasses: number;
    inputSize: number;
    inChannels: number;
    channels: [number, number, number, number, number];
    hidden: number;
    /** LRN constants when not the paper's (an ONNX graph's, e.g. Caffe's k = 1). */
    lrn?: AlexNetOptions['lrn'];
    /** Ceil-mode max-pooling (Caffe's), from an ONNX graph. */
    ceilMode?: boolean;
  };
  classes: string[];
  /** Per-channel normalization of values in [0, 1]. */
  mean: number[];
  std: number[];
  /** Trained with the paper's resize-and-crop scheme: images are resized to 8/7 of the input, then centre-cropped. */
  augment: boolean;
  /** Where the spec came from, shown to the user. */
  from: string;
}

/** The metadata key of the CLI's model config (apps/demo/src/model-file.ts). */
export const METADATA_KEY = 'gpunet.demo.model';

/** ImageNet's normalization, as torchvision's pretrained models expect. */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** MNIST's, the usual default for grey digits. */
const MNIST_NORMALIZATION = { mean: [0.1307], std: [0.3081] };

/** Thrown when a file is not an AlexNet the page can build; the message is one sentence for the page. */
export class SpecError extends Error {
  override name = 'SpecError';
}

const LAYOUTS = {
  torchvision: { convs: [0, 3, 6, 8, 10], fcs: [1, 4, 6] },
  paper: { convs: [0, 4, 8, 10, 12], fcs: [0, 3, 6] },
} as const;

/** The input side `scaledSize` of the CLI resizes to before its centre crop (8/7, 256 for 224). */
export function resizeSide(spec: ModelSpec): number {
  return spec.augment ? Math.round((spec.model.inputSize * 8) / 7) : spec.model.inputSize;
}

/** The side after conv1 and the three 3x3/2 pools of a paper-layout model (mini or paper). */
function poolSide(variant: AlexNetVariant, input: number): number {
  const [k, s, p] = variant === 'paper' ? [11, 4, 0] : [5, 1, 2];
  let side = outputSize(input, k, s, p);
  for (let i = 0; i < 3; i++) side = outputSize(side, 3, 2, 0);
  return side;
}

/**
 * The input size of a paper-layout model whose pool5 is `side` x `side`: the usual size when it
 * fits (227 for the paper, 28 for grey and 32 for colour minis), otherwise the smallest that does.
 */
function inputSizeFor(variant: AlexNetVariant, inChannels: number, side: number): number | null {
  const usual =
    variant === 'paper' ? [227, 224] : inChannels === 1 ? [28, 32, 64] : [32, 28, 64, 48, 96, 128];
  for (const size of usual) if (poolSide(variant, size) === side) return size;
  for (let size = 8; size <= 1024; size++) if (poolSide(variant, size) === side) return size;
  return null;
}

function shapeOf(weights: RawWeights, key: string): number[] | undefined {
  return weights.tensors.get(key)?.shape;
}

/** Reads the spec from the file's metadata, or infers it from the tensors' shapes. */
export function inferSpec(weights: RawWeights): ModelSpec {
  const spec = inferFromShapes(weights);
  return weights.graph ? { ...spec, model: { ...spec.model, ...weights.graph } } : spec;
}

function inferFromShapes(weights: RawWeights): ModelSpec {
  const described = `${weights.name} (${describeBytes(weights.bytes)}, ${weights.tensors.size} tensors)`;
  const conv1 = shapeOf(weights, 'features.0.weight');
  if (conv1?.length !== 4) {
    const keys = [...weights.tensors.keys()];
    throw new SpecError(
      `${described} is not an AlexNet state dict: expected a conv1 weight 'features.0.weight' of shape [out, in, k, k] (torchvision's, the paper's or gpunet's mini key layout), found ${keys.length === 0 ? 'no tensors' : `${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}`}`,
    );
  }
  const isTorchvision = shapeOf(weights, 'features.3.weight')?.length === 4;
  const layout = isTorchvision ? LAYOUTS.torchvision : LAYOUTS.paper;
  const kernel = conv1[3];
  const variant: AlexNetVariant = isTorchvision ? 'torchvision' : kernel === 11 ? 'paper' : 'mini';
  if (!isTorchvision && kernel !== 11 && kernel !== 5) {
    throw new SpecError(
      `${described}: conv1 'features.0.weight' is [${conv1.join(', ')}], but the paper's AlexNet has 11x11 and gpunet's mini 5x5 filters`,
    );
  }
  const channels = layout.convs.map((i, n) => {
    const shape = shapeOf(weights, `features.${i}.weight`);
    if (shape?.length !== 4) {
      throw new SpecError(
        `${described}: conv${n + 1} 'features.${i}.weight' is ${shape ? `[${shape.join(', ')}]` : 'missing'}, expected a 4-D conv weight (${variant} key layout)`,
      );
    }
    return shape[0];
  }) as ModelSpec['model']['channels'];
  const fcShapes = layout.fcs.map((i, n) => {
    const shape = shapeOf(weights, `classifier.${i}.weight`);
    if (shape?.length !== 2) {
      throw new SpecError(
        `${described}: fc${n + 6} 'classifier.${i}.weight' is ${shape ? `[${shape.join(', ')}]` : 'missing'}, expected a 2-D linear weight (${variant} key layout)`,
      );
    }
    return shape;
  });
  const [fc6, , fc8] = fcShapes;
  const hidden = fc6[0];
  const numClasses = fc8[0];
  const inChannels = conv1[1];
  const text = weights.metadata[METADATA_KEY];
  if (text !== undefined) {
    const stored = parseStoredConfig(described, text);
    return {
      ...stored,
      model: { ...stored.model, channels, hidden },
      from: 'its gpunet metadata',
    };
  }
  let inputSize = variant === 'torchvision' ? 224 : 0;
  if (variant !== 'torchvision') {
    const area = fc6[1] / channels[4];
    const side = Math.round(Math.sqrt(area));
    const size = side * side === area ? inputSizeFor(variant, inChannels, side) : null;
    if (size === null) {
      throw new SpecError(
        `${described}: fc6 'classifier.0.weight' takes ${fc6[1]} inputs, which is no square pool5 of conv5's ${channels[4]} channels for any input size`,
      );
    }
    inputSize = size;
  }
  const isImageNet = numClasses === 1000 && inChannels === 3;
  const normalization =
    inChannels === 3 ? IMAGENET_NORMALIZATION : inChannels === 1 ? MNIST_NORMALIZATION : null;
  if (!normalization) {
    throw new SpecError(
      `${described}: conv1 takes ${inChannels} input channels; the page feeds images as 1 (grey) or 3 (RGB)`,
    );
  }
  return {
    model: { variant, numClasses, inputSize, inChannels, channels, hidden },
    classes: isImageNet
      ? [...IMAGENET_CLASSES]
      : Array.from({ length: numClasses }, (_, i) => `class ${i}`),
    ...normalization,
    augment: variant !== 'mini',
    from: 'the tensors’ shapes',
  };
}

function parseStoredConfig(described: string, text: string): Omit<ModelSpec, 'from'> {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new SpecError(`${described}: its '${METADATA_KEY}' metadata is not valid JSON`);
  }
  const c = config as Partial<ModelSpec> & { model?: Partial<ModelSpec['model']> };
  const m = c.model;
  if (
    !m ||
    (m.variant !== 'paper' && m.variant !== 'torchvision' && m.variant !== 'mini') ||
    !Array.isArray(c.classes) ||
    !Array.isArray(c.mean) ||
    !Array.isArray(c.std)
  ) {
    throw new SpecError(
      `${described}: its '${METADATA_KEY}' metadata lacks model.variant, classes, mean or std`,
    );
  }
  const defaults = resolveAlexNetOptions(m);
  return {
    model: {
      variant: m.variant,
      numClasses: defaults.numClasses,
      inputSize: defaults.inputSize,
      inChannels: defaults.inChannels,
      channels: [...defaults.channels] as ModelSpec['model']['channels'],
      hidden: defaults.hidden,
    },
    classes: c.classes.map(String),
    mean: c.mean.map(Number),
    std: c.std.map(Number),
    augment: c.augment === true,
  };
}

/** The config written beside the weights, in the CLI's format, so `gpunet` commands read it. */
export function storedConfig(spec: ModelSpec): string {
  const { variant, numClasses, inputSize, inChannels } = spec.model;
  return JSON.stringify({
    model: { variant, numClasses, inputSize, inChannels },
    classes: spec.classes,
    mean: spec.mean,
    std: spec.std,
    augment: spec.augment,
  });
}

/** One line about the model: `torchvision AlexNet, 224x224 RGB, 1000 classes (ImageNet)`. */
export function describeSpec(spec: ModelSpec, parameters: number): string {
  const { variant, inputSize, inChannels, numClasses } = spec.model;
  const kind = inChannels === 1 ? 'grey' : 'RGB';
  const imagenet = numClasses === 1000 ? ' (ImageNet)' : '';
  return `${variant} AlexNet, ${inputSize}×${inputSize} ${kind}, ${numClasses} classes${imagenet}, ${parameters.toLocaleString('en')} parameters (read from ${spec.from})`;
}

/** `233.1 MB`, `289 KB`. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${bytes} bytes`;
}

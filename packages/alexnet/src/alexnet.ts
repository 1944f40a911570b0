import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  init,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
} from '@gpunet/layers';
import { Generator, noGrad, type Tensor } from '@gpunet/tensor';

/**
 * Which AlexNet to build:
 * - 'paper': Krizhevsky et al. 2012, section 3 and figure 2: 227x227 input, two towers expressed
 *   as groups 2 in conv2, conv4 and conv5, LRN after conv1 and conv2, overlapping 3x3/2 pooling,
 *   dropout 0.5 on the outputs of fc6 and fc7; 60,965,224 parameters.
 * - 'torchvision': torchvision's `alexnet()` (single tower, 64/192/384/256/256 channels, no LRN,
 *   no groups, adaptive average pool to 6x6, dropout before fc6 and fc7) at 224x224; the same
 *   state-dict keys, 61,100,840 parameters.
 * - 'mini': the paper's design scaled down for 28-64 px inputs so it trains on a CPU in minutes.
 */
export type AlexNetVariant = 'paper' | 'torchvision' | 'mini';

/** Options of `alexnet()`; defaults depend on the variant (see `resolveAlexNetOptions`). */
export interface AlexNetOptions {
  /** Default 'paper'. */
  variant?: AlexNetVariant;
  /** Output classes (fc8). Default 1000 (mini: 10). */
  numClasses?: number;
  /** Square input side in pixels. Default 227 (torchvision: 224, mini: 32). */
  inputSize?: number;
  /** Input channels. Default 3. */
  inChannels?: number;
  /** Output channels of conv1..conv5. Default paper 96/256/384/384/256, torchvision 64/192/384/256/256, mini 16/32/48/48/32. */
  channels?: readonly [number, number, number, number, number];
  /** Width of fc6 and fc7. Default 4096 (mini: 128). */
  hidden?: number;
  /** Dropout probability in the classifier. Default 0.5. */
  dropout?: number;
  /**
   * 'paper' (default for paper): weights N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6, fc7
   * and 0 elsewhere (section 5). 'pytorch' (default for torchvision): the layers' PyTorch
   * default init (kaiming-uniform with a = sqrt(5)). 'kaiming' (default for mini): He et al.
   * 2015, N(0, 2 / fanIn) weights and zero biases; the mini's small fan-ins make both others
   * shrink the signal so much that it stays at chance (measured: see docs/alexnet.md).
   */
  init?: 'paper' | 'pytorch' | 'kaiming';
  /**
   * The LRN layers' constants (paper and mini), with PyTorch's meaning (alpha divided by size).
   * Default the paper's: size 5, alpha 5e-4, beta 0.75, k 2. Caffe's reference model (the ONNX
   * model zoo's bvlcalexnet) uses size 5, alpha 1e-4, beta 0.75, k 1.
   */
  lrn?: AlexNetLrnOptions;
  /**
   * Max-pooling output sizes rounded up, as Caffe does (PyTorch `ceil_mode=True`). Default false
   * (PyTorch's floor). Equal at the paper's 227 px; Caffe's reference model at 224 px needs it.
   */
  ceilMode?: boolean;
  /** Seed of the model's generator (init and dropout masks). Default 0. */
  seed?: number;
  /** The model's generator, instead of `seed`: draws the init and the dropout masks. */
  generator?: Generator;
}

/** The constants of AlexNet's LRN layers, as `torch.nn.LocalResponseNorm` takes them. */
export interface AlexNetLrnOptions {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** The paper's LRN (section 3.3): k 2, n 5, alpha 1e-4 undivided = PyTorch's alpha 5e-4 (alpha / n). */
const PAPER_LRN: AlexNetLrnOptions = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };

/** `AlexNetOptions` with every default filled in. */
export type ResolvedAlexNetOptions = Required<Omit<AlexNetOptions, 'generator' | 'seed'>>;

const CHANNELS = {
  paper: [96, 256, 384, 384, 256],
  torchvision: [64, 192, 384, 256, 256],
  mini: [16, 32, 48, 48, 32],
} as const;

/** Fills in the variant's defaults (the one place they are written). */
export function resolveAlexNetOptions(options: AlexNetOptions = {}): ResolvedAlexNetOptions {
  const variant = options.variant ?? 'paper';
  if (variant !== 'paper' && variant !== 'torchvision' && variant !== 'mini') {
    throw new RangeError(
      `alexnet: variant must be 'paper', 'torchvision' or 'mini', got '${String(variant)}'`,
    );
  }
  const isMini = variant === 'mini';
  return {
    variant,
    numClasses: options.numClasses ?? (isMini ? 10 : 1000),
    inputSize:
      options.inputSize ?? (variant === 'paper' ? 227 : variant === 'torchvision' ? 224 : 32),
    inChannels: options.inChannels ?? 3,
    channels: options.channels ?? CHANNELS[variant],
    hidden: options.hidden ?? (isMini ? 128 : 4096),
    dropout: options.dropout ?? 0.5,
    init: options.init ?? (variant === 'torchvision' ? 'pytorch' : isMini ? 'kaiming' : 'paper'),
    lrn: { ...(options.lrn ?? PAPER_LRN) },
    ceilMode: options.ceilMode ?? false,
  };
}

/** Output side of a convolution or pooling window (PyTorch's floor formula). */
export function outputSize(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  ceilMode = false,
): number {
  if (!ceilMode) return Math.floor((size + 2 * padding - kernel) / stride) + 1;
  // PyTorch's rule: the last window must start inside the input or its left padding.
  const out = Math.ceil((size + 2 * padding - kernel) / stride) + 1;
  return (out - 1) * stride >= size + padding ? out - 1 : out;
}

/** The paper's name of each learned layer: conv1..conv5, fc6..fc8. */
export type AlexNetLayerName =
  | 'conv1'
  | 'conv2'
  | 'conv3'
  | 'conv4'
  | 'conv5'
  | 'fc6'
  | 'fc7'
  | 'fc8';

const LAYER_NAMES: readonly AlexNetLayerName[] = [
  'conv1',
  'conv2',
  'conv3',
  'conv4',
  'conv5',
  'fc6',
  'fc7',
  'fc8',
];

/** The parts of an AlexNet that a variant builds. */
interface Parts {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d | null;
  classifier: Sequential;
}

/** Layer factories shared by the variants: convs and linears draw from the model's generator. */
function makers(o: ResolvedAlexNetOptions, generator: Generator) {
  return {
    conv: (cin: number, cout: number, k: number, stride: number, padding: number, groups = 1) =>
      new Conv2d(cin, cout, k, { stride, padding, groups, generator }),
    linear: (cin: number, cout: number) => new Linear(cin, cout, { generator }),
    pool: () => new MaxPool2d(3, { stride: 2, ceilMode: o.ceilMode }),
    drop: () => new Dropout(o.dropout, { generator }),
  };
}

/**
 * torchvision's `AlexNet` (models/alexnet.py): single tower, no LRN, adaptive average pool to
 * 6x6, dropout before fc6 and fc7.
 */
function torchvisionParts(o: ResolvedAlexNetOptions, generator: Generator): Parts {
  const { conv, linear, pool, drop } = makers(o, generator);
  const [c1, c2, c3, c4, c5] = o.channels;
  return {
    features: new Sequential(
      conv(o.inChannels, c1, 11, 4, 2),
      new ReLU({ inplace: true }),
      pool(),
      conv(c1, c2, 5, 1, 2),
      new ReLU({ inplace: true }),
      pool(),
      conv(c2, c3, 3, 1, 1),
      new ReLU({ inplace: true }),
      conv(c3, c4, 3, 1, 1),
      new ReLU({ inplace: true }),
      conv(c4, c5, 3, 1, 1),
      new ReLU({ inplace: true }),
      pool(),
    ),
    avgpool: new AdaptiveAvgPool2d(6),
    classifier: new Sequential(
      drop(),
      linear(c5 * 6 * 6, o.hidden),
      new ReLU({ inplace: true }),
      drop(),
      linear(o.hidden, o.hidden),
      new ReLU({ inplace: true }),
      linear(o.hidden, o.numClasses),
    ),
  };
}

/**
 * The paper's network (section 3, figure 2) and the mini: LRN after conv1 and conv2, the two
 * towers as groups 2 in conv2, conv4 and conv5, dropout on the outputs of fc6 and fc7.
 */
function paperParts(o: ResolvedAlexNetOptions, generator: Generator): Parts {
  const { conv, linear, pool, drop } = makers(o, generator);
  const [c1, c2, c3, c4, c5] = o.channels;
  // The paper's conv1 is 11x11 stride 4; the mini keeps the rest of the design but needs a
  // small first window to leave anything of a 28-64 px image.
  const [k1, s1, p1] = o.variant === 'paper' ? [11, 4, 0] : [5, 1, 2];
  // The paper's LRN by default (k 2, n 5, alpha 1e-4 undivided = PyTorch's alpha 5e-4, alpha / n);
  // Caffe's constants when read from its graph (`lrn` option).
  const { size, alpha, beta, k } = o.lrn;
  const lrn = () => new LocalResponseNorm(size, { alpha, beta, k });
  let side = outputSize(o.inputSize, k1, s1, p1);
  for (let i = 0; i < 3; i++) side = outputSize(side, 3, 2, 0, o.ceilMode);
  if (side < 1) {
    throw new RangeError(
      `alexnet: inputSize ${o.inputSize} is too small for the '${o.variant}' variant (pool5 would be ${side}x${side})`,
    );
  }
  return {
    features: new Sequential(
      conv(o.inChannels, c1, k1, s1, p1),
      new ReLU({ inplace: true }),
      lrn(),
      pool(),
      conv(c1, c2, 5, 1, 2, 2),
      new ReLU({ inplace: true }),
      lrn(),
      pool(),
      conv(c2, c3, 3, 1, 1),
      new ReLU({ inplace: true }),
      conv(c3, c4, 3, 1, 1, 2),
      new ReLU({ inplace: true }),
      conv(c4, c5, 3, 1, 1, 2),
      new ReLU({ inplace: true }),
      pool(),
    ),
    avgpool: null,
    classifier: new Sequential(
      linear(c5 * side * side, o.hidden),
      new ReLU({ inplace: true }),
      drop(),
      linear(o.hidden, o.hidden),
      new ReLU({ inplace: true }),
      drop(),
      linear(o.hidden, o.numClasses),
    ),
  };
}

/**
 * AlexNet as a `Module`: `features` (the convolutional part), for torchvision an `avgpool`, a
 * `flatten`, and `classifier` (fc6, fc7, fc8). State-dict keys are `features.0.weight` ...
 * `classifier.6.bias`, one-to-one with PyTorch's. Build it with `alexnet(options)`.
 *
 * Layouts (index: module):
 * - paper and mini: features = conv1 0, relu 1, lrn 2, pool 3, conv2 4, relu 5, lrn 6, pool 7,
 *   conv3 8, relu 9, conv4 10, relu 11, conv5 12, relu 13, pool 14; classifier = fc6 0, relu 1,
 *   dropout 2, fc7 3, relu 4, dropout 5, fc8 6 (dropout on the outputs of fc6 and fc7, section 4.2).
 * - torchvision: features = conv1 0, relu 1, pool 2, conv2 3, relu 4, pool 5, conv3 6, relu 7,
 *   conv4 8, relu 9, conv5 10, relu 11, pool 12; avgpool; classifier = dropout 0, fc6 1, relu 2,
 *   dropout 3, fc7 4, relu 5, fc8 6.
 */
export class AlexNet extends Module {
  features: Sequential;
  /** torchvision's adaptive average pool to 6x6; null in the paper and mini variants. */
  avgpool: AdaptiveAvgPool2d | null;
  flatten = new Flatten();
  classifier: Sequential;
  /** The options it was built with, defaults filled in. */
  readonly options: ResolvedAlexNetOptions;
  /** Draws the init and the dropout masks; save its state to resume training exactly. */
  readonly generator: Generator;

  constructor(options: AlexNetOptions = {}) {
    super();
    const o = resolveAlexNetOptions(options);
    this.options = o;
    this.generator = options.generator ?? new Generator(options.seed ?? 0);
    const parts = (o.variant === 'torchvision' ? torchvisionParts : paperParts)(o, this.generator);
    this.features = parts.features;
    this.avgpool = parts.avgpool;
    this.classifier = parts.classifier;
    if (o.init === 'paper') paperInit(this);
    else if (o.init === 'kaiming') kaimingInit(this);
    else if (o.init !== 'pytorch') {
      throw new RangeError(
        `alexnet: init must be 'paper', 'pytorch' or 'kaiming', got '${String(o.init)}'`,
      );
    }
  }

  /** `[N, inChannels, inputSize, inputSize]` -> logits `[N, numClasses]`. */
  forward(x: Tensor): Tensor {
    const features = this.features.call(x);
    const pooled = this.avgpool ? this.avgpool.call(features) : features;
    return this.classifier.call(this.flatten.call(pooled));
  }

  /**
   * Module path of each learned layer, e.g. `conv2` -> `features.4` (paper): the convolutions
   * of `features` and the linears of `classifier`, in order.
   */
  get layerPaths(): Record<AlexNetLayerName, string> {
    const learned = this.namedModules()
      .filter(([, m]) => m instanceof Conv2d || m instanceof Linear)
      .map(([path]) => path);
    return Object.fromEntries(LAYER_NAMES.map((name, i) => [name, learned[i]])) as Record<
      AlexNetLayerName,
      string
    >;
  }

  /**
   * @deprecated The leaf modules in call order with their paths, for the web page's per-module
   * loop until it moves to `layerTimings` and `featureMaps` (hooks). `forward` does not use it.
   */
  chain(): [string, Module][] {
    return this.namedModules().filter(([, m]) => m.children().length === 0);
  }
}

/**
 * The paper's initialization (section 5), in place: every conv and linear weight from
 * N(0, 0.01^2); biases 1 in conv2, conv4, conv5, fc6 and fc7 ("accelerates the early stages of
 * learning by providing the ReLUs with positive inputs"), 0 in conv1, conv3 and fc8. Draws from
 * the model's generator, so a seed gives the same weights every time.
 */
export function paperInit(model: AlexNet): AlexNet {
  const onesBias = new Set<string>(['conv2', 'conv4', 'conv5', 'fc6', 'fc7']);
  const modules = new Map(model.namedModules());
  noGrad(() => {
    for (const [name, path] of Object.entries(model.layerPaths)) {
      const layer = modules.get(path);
      if (!(layer instanceof Conv2d || layer instanceof Linear)) {
        throw new Error(`paperInit: ${name} at ${path} is not a Conv2d or Linear`);
      }
      const weight = init.normal(layer.weight.shape, 0, 0.01, { generator: model.generator });
      layer.weight.assign(weight);
      weight.dispose();
      if (layer.bias) {
        const bias = init.constant(layer.bias.shape, onesBias.has(name) ? 1 : 0);
        layer.bias.assign(bias);
        bias.dispose();
      }
    }
  });
  return model;
}

/**
 * He et al. (2015) initialization, in place: every conv and linear weight from N(0, 2 / fanIn)
 * (PyTorch `kaiming_normal_` for ReLU), biases 0; drawn from the model's generator. The mini
 * variant's default.
 */
export function kaimingInit(model: AlexNet): AlexNet {
  noGrad(() => {
    for (const [, module] of model.namedModules()) {
      if (!(module instanceof Conv2d || module instanceof Linear)) continue;
      const weight = init.kaimingNormal(module.weight.shape, {
        nonlinearity: 'relu',
        generator: model.generator,
      });
      module.weight.assign(weight);
      weight.dispose();
      if (module.bias) {
        const bias = init.zeros(module.bias.shape);
        module.bias.assign(bias);
        bias.dispose();
      }
    }
  });
  return model;
}

/** Builds an AlexNet: `alexnet({ variant: 'paper' })` is the 2012 network at 227x227. */
export function alexnet(options: AlexNetOptions = {}): AlexNet {
  return new AlexNet(options);
}

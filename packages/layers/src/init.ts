/**
 * Weight initializers with PyTorch's formulas (`torch.nn.init`): each returns a new float32
 * tensor of the given shape drawn from a seeded `Generator`, so the same seed gives the same
 * weights on every backend. To re-initialize a parameter: `p.assign(kaimingUniform(p.shape))`.
 */
import {
  defaultGenerator,
  formatShape,
  type Generator,
  type Shape,
  ShapeError,
  type Tensor,
  tensor,
} from '@gpunet/tensor';

/** Non-linearities `calculateGain` knows (PyTorch's names). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Which fan Kaiming initialization preserves: the forward pass's or the backward pass's variance. */
export type FanMode = 'fanIn' | 'fanOut';

/** Options every initializer takes. */
export interface InitOptions {
  /** Where the numbers come from; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/** Options of `kaimingUniform` and `kaimingNormal`. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (0 for ReLU). Default 0. */
  a?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'leaky_relu' (with a = 0 that is ReLU's gain, sqrt(2)). */
  nonlinearity?: Nonlinearity;
}

/** Options of `xavierUniform` and `xavierNormal`. */
export interface XavierOptions extends InitOptions {
  /** Scale factor. Default 1. */
  gain?: number;
}

/**
 * The recommended gain for a non-linearity, as `torch.nn.init.calculate_gain`: 1 for linear and
 * convolutions and sigmoid, 5/3 for tanh, sqrt(2) for ReLU, sqrt(2 / (1 + a^2)) for leaky ReLU
 * with slope `param` (default 0.01), 3/4 for SELU.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

/**
 * Fan in and fan out of a weight shape, as PyTorch's `_calculate_fan_in_and_fan_out`:
 * `[out, in, ...kernel]` gives fanIn = in * prod(kernel), fanOut = out * prod(kernel).
 */
export function calculateFanInAndFanOut(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new ShapeError(
      `calculateFanInAndFanOut: needs at least 2 dimensions, got ${formatShape(shape)}`,
    );
  }
  let receptiveField = 1;
  for (let i = 2; i < shape.length; i++) receptiveField *= shape[i];
  return { fanIn: shape[1] * receptiveField, fanOut: shape[0] * receptiveField };
}

function sized(shape: Shape): Float32Array {
  let n = 1;
  for (const d of shape) n *= d;
  return new Float32Array(n);
}

/** Values drawn from U(low, high) (PyTorch `uniform_`, defaults 0 and 1). */
export function uniform(shape: Shape, low = 0, high = 1, options: InitOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return tensor(g.fillUniform(sized(shape), low, high), shape);
}

/** Values drawn from N(mean, std^2) (PyTorch `normal_`, defaults 0 and 1). AlexNet uses std 0.01. */
export function normal(shape: Shape, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return tensor(g.fillNormal(sized(shape), mean, std), shape);
}

/** Every value `value` (PyTorch `constant_`). AlexNet sets some biases to 1. */
export function constant(shape: Shape, value: number): Tensor {
  return tensor(sized(shape).fill(value), shape);
}

/** Every value 0 (PyTorch `zeros_`). */
export function zeros(shape: Shape): Tensor {
  return constant(shape, 0);
}

function kaimingStd(shape: Shape, options: KaimingOptions): number {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = options;
  const { fanIn, fanOut } = calculateFanInAndFanOut(shape);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/**
 * He et al. (2015) uniform init, PyTorch `kaiming_uniform_`: U(-bound, bound) with
 * bound = gain * sqrt(3 / fan). PyTorch's Conv2d and Linear use a = sqrt(5), so bound = 1/sqrt(fanIn).
 */
export function kaimingUniform(shape: Shape, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(shape, options);
  return uniform(shape, -bound, bound, options);
}

/** He et al. (2015) normal init, PyTorch `kaiming_normal_`: N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal(shape: Shape, options: KaimingOptions = {}): Tensor {
  return normal(shape, 0, kaimingStd(shape, options), options);
}

/**
 * Glorot and Bengio (2010) uniform init, PyTorch `xavier_uniform_`: U(-a, a) with
 * a = gain * sqrt(6 / (fanIn + fanOut)).
 */
export function xavierUniform(shape: Shape, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, options);
}

/** Glorot and Bengio (2010) normal init, PyTorch `xavier_normal_`: std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal(shape: Shape, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(shape);
  return normal(shape, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options);
}

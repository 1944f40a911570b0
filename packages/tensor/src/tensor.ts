import { backward } from './autograd.js';
import type { Backend, DataId } from './backend.js';
import {
  findBackend,
  forgetTensor,
  keep,
  makeTensor,
  recordGradient,
  releaseData,
  retainData,
} from './engine.js';
import { DTypeError, formatShape, ShapeError } from './errors.js';
import { sizeOf } from './internal/shape.js';
import * as ops from './ops/index.js';
import type { DType, NestedArray, Shape, TypedArray } from './types.js';

/**
 * Maps the gradient of an op's output (`dy`, shaped like the output `y`) to one gradient per
 * input, shaped like that input, or null where the input gets none.
 */
export type GradFn = (dy: Tensor, y: Tensor) => (Tensor | null)[];

/** A tensor, or a number that ops promote to a scalar tensor. */
export type TensorLike = Tensor | number;

/**
 * An n-dimensional array of float32 or int32 values held by a backend.
 *
 * Shape and dtype are known at once; the values are read asynchronously with `await t.data()`,
 * so ops chain on the device without a readback. Tensors are immutable except through
 * `assign` (what optimizers use). A tensor holds device memory until `dispose()` or the end of
 * the `tidy` that created it.
 */
export class Tensor {
  /** Unique, increasing id. */
  readonly id: number;
  /** Dimensions, outermost first. */
  readonly shape: Shape;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** @internal The backend holding the data. */
  readonly backend: Backend;
  /** @internal The buffer, shared with reshapes and detached copies. */
  dataId: DataId;
  /** Gradient accumulated by `backward()` (leaf tensors only, as in PyTorch). */
  grad: Tensor | null = null;
  /** True once disposed; any further use throws. */
  isDisposed = false;
  /**
   * @internal True once `releaseBuffer()` freed the data: the tensor stays in the autograd graph
   * (shape, parents, gradient function) but cannot be read or used as an input.
   */
  isReleased = false;
  /** @internal Set by `keep()`: no tidy disposes this tensor. */
  isKept = false;
  /** @internal The op that made this tensor, its inputs and its gradient function. */
  opName: string | null = null;
  parents: readonly Tensor[] = [];
  gradFn: GradFn | null = null;
  private requiresGradFlag = false;

  /** @internal Use `tensor()`, `zeros()` and the other creation functions. */
  constructor(id: number, dataId: DataId, shape: Shape, dtype: DType, backend: Backend) {
    this.id = id;
    this.dataId = dataId;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.backend = backend;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (inputs and parameters). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Whether ops on this tensor record a graph for `backward()`. Only float32 tensors can. */
  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }

  set requiresGrad(value: boolean) {
    if (value && this.dtype !== 'float32') {
      throw new DTypeError(
        `requiresGrad: only float32 tensors can require gradients, this one is ${this.dtype}`,
      );
    }
    if (!value && !this.isLeaf) {
      throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    }
    this.requiresGradFlag = value;
  }

  /** @internal Records this tensor as the output of `opName` applied to `parents`. */
  setGraph(opName: string, parents: readonly Tensor[], gradFn: GradFn): void {
    this.opName = opName;
    this.parents = parents;
    this.gradFn = gradFn;
    this.requiresGradFlag = true;
  }

  private assertAlive(what: string): void {
    if (this.isDisposed)
      throw new Error(`${what}: tensor ${this.id} ${formatShape(this.shape)} was disposed`);
    if (this.isReleased) throw new Error(releasedMessage(what, this));
  }

  /**
   * @internal Frees this tensor's buffer but keeps it in the autograd graph: for an
   * intermediate whose value no gradient reads (a convolution's output before its bias, the
   * input of an in-place ReLU), so that a training step does not hold it until its tidy ends.
   */
  releaseBuffer(): void {
    if (this.isDisposed || this.isReleased) return;
    this.isReleased = true;
    releaseData(this.dataId);
  }

  /** Reads the values (row-major) once pending device work is done. Returns a fresh copy. */
  async data(): Promise<TypedArray> {
    this.assertAlive('data');
    return this.backend.read(this.dataId);
  }

  /** Reads the values synchronously; only host-memory backends (reference, cpu) can. */
  dataSync(): TypedArray {
    this.assertAlive('dataSync');
    if (!this.backend.readSync) {
      throw new Error(
        `dataSync: backend '${this.backend.name}' reads asynchronously; use await t.data()`,
      );
    }
    return this.backend.readSync(this.dataId);
  }

  /** The values as nested arrays, like PyTorch's `tolist()`. */
  async array(): Promise<NestedArray> {
    const values = await this.data();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.rank) return values[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor, like PyTorch's `item()`. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new ShapeError(
        `item: tensor has ${this.size} elements ${formatShape(this.shape)}, not 1`,
      );
    return (await this.data())[0];
  }

  /** Frees this tensor's hold on its buffer (and its `.grad`). Safe to call twice. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    forgetTensor();
    if (!this.isReleased) releaseData(this.dataId);
    this.grad?.dispose();
    this.grad = null;
    this.gradFn = null;
    this.parents = [];
  }

  /** Marks this tensor so that no `tidy` disposes it. */
  keep(): this {
    return keep(this);
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and
   * adds it to their `.grad`. A non-scalar tensor needs `gradient` (shaped like it).
   */
  backward(gradient?: Tensor): void {
    this.assertAlive('backward');
    backward(this, gradient);
  }

  /** A tensor sharing this one's data, cut from the gradient graph (PyTorch `detach`). */
  detach(): Tensor {
    this.assertAlive('detach');
    return makeTensor(this.dataId, this.shape, this.dtype, this.backend);
  }

  /** @internal A new tensor object sharing this one's data and taking part in the graph as identity. */
  alias(shape: Shape = this.shape, opName = 'Reshape'): Tensor {
    this.assertAlive(opName);
    const out = makeTensor(this.dataId, shape, this.dtype, this.backend);
    const inShape = this.shape;
    return recordGradient(out, [this], opName, (dy) => [ops.reshape(dy, inShape)]);
  }

  /**
   * Replaces this tensor's values with `value`'s (same shape and dtype), in place, as
   * TensorFlow.js `Variable.assign` and PyTorch `param.data = ...` do. Leaf tensors only.
   */
  assign(value: Tensor): void {
    this.assertAlive('assign');
    if (!this.isLeaf)
      throw new Error('assign: only leaf tensors (parameters, inputs) can be assigned');
    if (
      value.dtype !== this.dtype ||
      value.size !== this.size ||
      value.rank !== this.rank ||
      value.shape.some((d, i) => d !== this.shape[i])
    ) {
      throw new ShapeError(
        `assign: value ${formatShape(value.shape)} ${value.dtype} does not match ` +
          `tensor ${formatShape(this.shape)} ${this.dtype}`,
      );
    }
    if (value.backend !== this.backend) throw new Error('assign: value lives on another backend');
    retainData(value.dataId);
    releaseData(this.dataId);
    this.dataId = value.dataId;
  }

  /** Copies this tensor to another registered backend (reads it back, then writes it there). */
  async to(backendName: string): Promise<Tensor> {
    const values = await this.data();
    const target = await findBackend(backendName);
    return makeTensor(target.write(values, this.shape, this.dtype), this.shape, this.dtype, target);
  }

  /** A short description with shape, dtype and backend (values are not read). */
  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, backend=${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // Method forms of the common ops, for chaining: x.matmul(w).add(b).relu()
  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sum(dim?: number | number[], keepdim = false): Tensor {
    return ops.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return ops.mean(this, dim, keepdim);
  }
  max(dim?: number | number[], keepdim = false): Tensor {
    return ops.max(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return ops.argmax(this, dim, keepdim);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  flip(dims: number | readonly number[]): Tensor {
    return ops.flip(this, dims);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  softmax(dim = -1): Tensor {
    return ops.softmax(this, dim);
  }
  logSoftmax(dim = -1): Tensor {
    return ops.logSoftmax(this, dim);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
}

/** @internal The error for a use of a tensor whose buffer `releaseBuffer()` freed. */
export function releasedMessage(what: string, t: Tensor): string {
  return `${what}: tensor ${t.id} ${formatShape(t.shape)} was freed by an in-place op (e.g. reluInplace(x), or a ReLU({ inplace: true }) layer); its value is gone`;
}

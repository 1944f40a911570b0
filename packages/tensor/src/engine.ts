/**
 * The engine: which backend is current, which tensors are alive, which buffers they share,
 * the `tidy` scopes, grad mode, and `runKernel`, through which every op reaches a backend.
 */
import { type Backend, type DataId, getKernel } from './backend.js';
import { sizeOf } from './internal/shape.js';
import type { KernelAttrs, KernelName } from './kernel-names.js';
import { type GradFn, releasedMessage, Tensor } from './tensor.js';
import type { DType, Shape } from './types.js';

/** Makes a backend; may be async (a WebGPU adapter is requested asynchronously). */
export type BackendFactory = () => Backend | Promise<Backend>;

interface DataRecord {
  refCount: number;
  bytes: number;
  backend: Backend;
}

/** Live tensors and buffers, as `memory()` reports them. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed. */
  numTensors: number;
  /** Distinct buffers those tensors hold (a reshape shares its input's buffer). */
  numDataBuffers: number;
  /** Bytes in those buffers. */
  numBytes: number;
  /** Bytes the current backend reports holding, when it can tell (GPU textures, Wasm heap). */
  numBytesInBackend?: number;
}

class Engine {
  readonly factories = new Map<string, { factory: BackendFactory; priority: number }>();
  readonly instances = new Map<string, Backend>();
  current: Backend | null = null;
  readonly data = new Map<DataId, DataRecord>();
  numTensors = 0;
  numBytes = 0;
  readonly scopes: Tensor[][] = [];
  gradEnabled = true;
  nextTensorId = 1;
}

const engine = new Engine();

/**
 * Registers a backend under a name. The factory runs on the first `setBackend(name)`.
 * When no backend was set explicitly, the registered backend with the highest priority
 * that has a synchronous factory is used.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 1): void {
  engine.factories.set(name, { factory, priority });
}

/** Names of every registered backend. */
export function listBackends(): string[] {
  return [...engine.factories.keys()];
}

/** The instance of a registered backend, made on first use. */
export async function findBackend(name: string): Promise<Backend> {
  const existing = engine.instances.get(name);
  if (existing) return existing;
  const entry = engine.factories.get(name);
  if (!entry) {
    throw new Error(
      `setBackend: no backend named '${name}' is registered (registered: ${listBackends().join(', ') || 'none'})`,
    );
  }
  const backend = await entry.factory();
  engine.instances.set(name, backend);
  return backend;
}

/** Makes `name` the backend new tensors are created on. Resolves once the backend is ready. */
export async function setBackend(name: string): Promise<void> {
  engine.current = await findBackend(name);
}

/** The current backend (the highest-priority registered one if none was set). */
export function getBackend(): Backend {
  if (engine.current) return engine.current;
  const candidates = [...engine.factories.entries()].sort((a, b) => b[1].priority - a[1].priority);
  for (const [name, { factory }] of candidates) {
    const made = engine.instances.get(name) ?? factory();
    if (made instanceof Promise) continue;
    engine.instances.set(name, made);
    engine.current = made;
    return made;
  }
  throw new Error(
    'getBackend: no backend is registered; import @gpunet/tensor to get the reference backend',
  );
}

/** The current backend's name. */
export function getBackendName(): string {
  return getBackend().name;
}

/** @internal Wraps a buffer in a new tensor, counting it and tracking it in the current tidy scope. */
export function makeTensor(dataId: DataId, shape: Shape, dtype: DType, backend: Backend): Tensor {
  const record = engine.data.get(dataId);
  if (record) {
    record.refCount++;
  } else {
    const bytes = sizeOf(shape) * 4;
    engine.data.set(dataId, { refCount: 1, bytes, backend });
    engine.numBytes += bytes;
  }
  engine.numTensors++;
  const t = new Tensor(engine.nextTensorId++, dataId, shape, dtype, backend);
  engine.scopes[engine.scopes.length - 1]?.push(t);
  return t;
}

/** @internal The id the next tensor made will get (ids only grow). */
export function nextTensorId(): number {
  return engine.nextTensorId;
}

/** @internal Releases one tensor's hold on its buffer. */
export function releaseData(dataId: DataId): void {
  const record = engine.data.get(dataId);
  if (!record) return;
  if (--record.refCount === 0) {
    engine.data.delete(dataId);
    engine.numBytes -= record.bytes;
    record.backend.disposeData(dataId);
  }
}

/** @internal Adds a hold on a buffer (used by `Tensor.assign`). */
export function retainData(dataId: DataId): void {
  const record = engine.data.get(dataId);
  if (!record) throw new Error('internal: retaining a buffer that is not tracked');
  record.refCount++;
}

/** @internal Counts a tensor as gone. */
export function forgetTensor(): void {
  engine.numTensors--;
}

/** @internal True when ops record a gradient graph right now. */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}

/**
 * Runs `fn` without recording gradients, like PyTorch's `torch.no_grad()`. Use it for
 * evaluation and for optimizer updates. `fn` must be synchronous.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    return fn();
  } finally {
    engine.gradEnabled = previous;
  }
}

/** @internal Makes `out` a node of the gradient graph when grad mode is on and an input needs it. */
export function recordGradient(
  out: Tensor,
  inputs: readonly Tensor[],
  opName: string,
  grad?: GradFn,
): Tensor {
  if (grad && engine.gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.setGraph(opName, inputs, grad);
  }
  return out;
}

/**
 * Runs a registered kernel of the inputs' backend and wraps its output in a tensor.
 * `grad`, when given, maps the output's gradient to one gradient per input (null where none).
 */
export function runKernel<K extends KernelName>(
  kernelName: K,
  inputs: readonly Tensor[],
  attrs: KernelAttrs[K],
  grad?: GradFn,
): Tensor {
  const backend = inputs.length > 0 ? inputs[0].backend : getBackend();
  for (const t of inputs) {
    if (t.isDisposed) {
      throw new Error(
        `${kernelName}: an input tensor (id ${t.id}, shape [${t.shape.join(', ')}]) was disposed`,
      );
    }
    if (t.isReleased) throw new Error(releasedMessage(kernelName, t));
    if (t.backend !== backend) {
      throw new Error(
        `${kernelName}: inputs live on different backends ('${backend.name}' and '${t.backend.name}'); ` +
          'move one with await t.to(name)',
      );
    }
  }
  const kernel = getKernel(kernelName, backend.name);
  if (!kernel) {
    throw new Error(
      `${kernelName}: backend '${backend.name}' has no kernel registered under this name`,
    );
  }
  const info = kernel.kernelFunc({ inputs, attrs, backend });
  return recordGradient(
    makeTensor(info.dataId, info.shape, info.dtype, backend),
    inputs,
    kernelName,
    grad,
  );
}

/** A value `tidy` can return: tensors, possibly inside arrays or plain objects. */
export type TensorContainer =
  // biome-ignore lint/suspicious/noConfusingVoidType: tidy(fn) must accept functions that return nothing.
  | void
  | undefined
  | null
  | number
  | string
  | boolean
  | Float32Array
  | Int32Array
  | Uint8Array
  | Tensor
  | TensorContainer[]
  | { [key: string]: TensorContainer };

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns and those passed
 * to `keep()`, as TensorFlow.js's `tf.tidy` does. `fn` must be synchronous. Gradients that
 * `backward()` writes into `.grad` are kept automatically.
 */
export function tidy<T extends TensorContainer>(fn: () => T): T {
  const scope: Tensor[] = [];
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    engine.scopes.pop();
    for (const t of scope) if (!t.isKept) t.dispose();
    throw error;
  }
  engine.scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy: fn returned a Promise; tidy only works with synchronous functions');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.push(t);
    else if (!t.isKept) t.dispose();
  }
  return result;
}

/** Marks a tensor so that no `tidy` disposes it; it lives until `dispose()`. */
export function keep<T extends Tensor>(t: T): T {
  t.isKept = true;
  return t;
}

/** Disposes every tensor in a container (a tensor, an array or an object of them). */
export function dispose(container: TensorContainer): void {
  const tensors = new Set<Tensor>();
  collectTensors(container, tensors);
  for (const t of tensors) t.dispose();
}

/** Live tensor and byte counts, to check that a loop does not leak device memory. */
export function memory(): MemoryInfo {
  const info: MemoryInfo = {
    numTensors: engine.numTensors,
    numDataBuffers: engine.data.size,
    numBytes: engine.numBytes,
  };
  const backendBytes = engine.current?.numBytes?.();
  if (backendBytes !== undefined) info.numBytesInBackend = backendBytes;
  return info;
}

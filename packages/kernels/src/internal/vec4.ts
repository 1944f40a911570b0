/**
 * Blocked kernels: one gpu.js thread computes four consecutive output elements and returns them
 * as `[v0, v1, v2, v3]` (gpu.js's `Array(4)` return), so every value it fetches serves up to four
 * outputs instead of one.
 *
 * gpu.js stores an `Array(4)` result as four floats per cell: on webgpu a flat `array<f32>` of
 * 4 * threads floats (`result[index * 4 + k]`), on WebGL 2 an RGBA32F texture of one texel per
 * thread. Both are, float for float, the flat row-major tensor of 4 * threads elements: the
 * layout gpu.js calls a memory-optimized number texture on WebGL 2 (four floats per texel, read
 * by `getMemoryOptimized32`) and a plain one-float-per-element buffer on webgpu. `flattenVec4`
 * relabels the result as that flat tensor, sharing the storage (no copy), so that every other
 * kernel reads it as it reads any tensor.
 */
import type { Texture } from 'gpu.js';

/** The gpu.js modes whose kernels may return `Array(4)` blocks (see `GpuBackend.blocksOutputs`). */
export const BLOCKED_MODES: readonly string[] = ['webgpu', 'webgl2'];

/** The fields of gpu.js 2.24's WebGPU buffer handle (`WebGPUBufferResult`) a relabel touches. */
interface WebGpuHandle {
  output: number[];
  componentCount: number;
  delete(): void;
  clone(): WebGpuHandle;
}

/** The fields of gpu.js 2.24's GL texture (`GLTextureArray4Float`) a relabel touches. */
interface GlTexture {
  output: number[];
  dimensions: number[];
  type: string;
  delete(): void;
  clone(): GlTexture;
  renderValues(): Float32Array | null;
  toArray(): unknown;
}

/**
 * The flat float tensor of `length` elements (at most 4 * threads) that an `Array(4)` kernel's
 * result holds, sharing its storage: a webgpu buffer handle (or a texture on WebGL 2) of one
 * component per element. The `Array(4)` handle is released; the storage lives while the new one
 * does.
 */
export function flattenVec4<T>(result: T, length: number): T {
  const value = result as unknown as WebGpuHandle | GlTexture;
  if ('componentCount' in value) {
    if (value.componentCount !== 4) throw new Error('internal: expected an Array(4) result');
    const flat = value.clone();
    flat.componentCount = 1;
    flat.output = [length];
    value.delete();
    return flat as unknown as T;
  }
  if (value.type !== 'ArrayTexture(4)') {
    throw new Error(`internal: expected an Array(4) texture, got ${value.type}`);
  }
  const flat = value.clone();
  flat.output = [length];
  flat.dimensions = [length, 1, 1];
  // Read as gpu.js reads a memory-optimized float texture: four floats per texel, in order.
  flat.type = 'MemoryOptimizedNumberTexture';
  flat.toArray = function (this: GlTexture) {
    return this.renderValues()?.subarray(0, length);
  };
  value.delete();
  return flat as unknown as T & Texture;
}

/**
 * Whether a stored buffer holds four floats per texel, in order (an `Array(4)` kernel's result
 * relabelled by `flattenVec4`: the blocked kernels' outputs, and on webgl2 every upload), so that
 * `asTexelRows` can read it four floats per fetch.
 */
export function holdsTexels(value: unknown): boolean {
  return (value as { type?: unknown }).type === 'MemoryOptimizedNumberTexture';
}

/**
 * A texture that `holdsTexels`, seen as gpu.js's `ArrayTexture(4)` of `texels` texels (the
 * inverse of `flattenVec4`, sharing the storage): a kernel taking it reads texel `i`, floats
 * 4i .. 4i + 3 of the tensor, with one fetch. Release it with `delete()` (the tensor's texture
 * lives on).
 */
export function asTexelRows<T>(value: T, texels: number): T {
  const flat = value as unknown as GlTexture;
  if (!holdsTexels(flat))
    throw new Error('internal: the texture does not hold four floats per texel');
  const view = flat.clone();
  view.type = 'ArrayTexture(4)';
  view.output = [texels];
  view.dimensions = [texels, 1, 1];
  return view as unknown as T;
}

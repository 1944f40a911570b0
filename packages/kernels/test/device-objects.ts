/**
 * Counts the device objects a backend holds, below gpu.js: WebGL textures on the GL modes
 * (`createTexture` minus `deleteTexture` on the GPU's context) and GPUBuffers on webgpu
 * (`createBuffer` minus `destroy` on gpu.js's shared device). The backend's own counters
 * (`numBuffers`, `numBytes`) see only the tensors it stores; these see a texture or buffer that
 * gpu.js made and nobody freed, the leak that costs device memory.
 */
import * as gpujs from 'gpu.js';
import type { GpuBackend } from '../src/index.js';

/** The parts of a WebGL context the counter wraps. */
interface GlContext {
  createTexture(): unknown;
  deleteTexture(texture: unknown): void;
}

/** The parts of a GPUDevice and GPUBuffer the counter wraps. */
interface WebGpuBuffer {
  destroy(): void;
}
interface WebGpuDevice {
  createBuffer(descriptor: unknown): WebGpuBuffer;
}

/** gpu.js exports its shared WebGPU device's holder, which its type declarations omit. */
interface WebGpuContextClass {
  acquire(): Promise<{ device: WebGpuDevice }>;
}

/** One counter per context or device: wrapping twice would count twice. */
const counters = new WeakMap<object, { live: number }>();

/**
 * Starts counting the live device objects of `backend` (call it after one kernel has run, so
 * that the GL context exists) and returns a function giving the objects made minus the objects
 * freed since. On cpu and webasm, whose data are host arrays, it always gives 0.
 */
export async function watchDeviceObjects(backend: GpuBackend): Promise<() => number> {
  let target: object | null = null;
  let count: { live: number } | undefined;
  if (backend.isTextureMode) {
    const gl = backend.gpu.context as GlContext | null;
    if (!gl) throw new Error(`${backend.name}: no GL context yet: run a kernel first`);
    target = gl;
    count = counters.get(gl);
    if (!count) {
      const c = { live: 0 };
      const create = gl.createTexture.bind(gl);
      const remove = gl.deleteTexture.bind(gl);
      gl.createTexture = () => {
        c.live++;
        return create();
      };
      gl.deleteTexture = (texture: unknown) => {
        if (texture) c.live--;
        remove(texture);
      };
      count = c;
    }
  } else if (backend.isAsync) {
    const holder = (gpujs as unknown as { WebGPUContext: WebGpuContextClass }).WebGPUContext;
    const { device } = await holder.acquire();
    target = device;
    count = counters.get(device);
    if (!count) {
      const c = { live: 0 };
      const create = device.createBuffer.bind(device);
      device.createBuffer = (descriptor: unknown) => {
        const buffer = create(descriptor);
        c.live++;
        const destroy = buffer.destroy.bind(buffer);
        let isDestroyed = false;
        buffer.destroy = () => {
          if (!isDestroyed) c.live--;
          isDestroyed = true;
          destroy();
        };
        return buffer;
      };
      count = c;
    }
  }
  if (!target || !count) return () => 0;
  counters.set(target, count);
  const counted = count;
  const start = counted.live;
  return () => counted.live - start;
}

/**
 * The compiled gpu.js kernels of a backend, keyed by their source and the argument and output
 * sizes: the same op on the same shapes compiles once (a training step on fixed shapes
 * compiles nothing after its first run).
 */
import { GPU, type IKernelRunShortcut } from 'gpu.js';
import { loopIterations } from '../internal/loops.js';
import type { NativeFunction } from './reads.js';

export class CompileCache {
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  /** A cpu-mode GPU for webasm kernels over the index limit (see `GpuBackend.run`). */
  private cpuGpu: GPU | null = null;
  /**
   * `onCompile` is called once per kernel compiled. A kernel whose threads would loop more than
   * `loopLimit()` times is refused (internal/loops.ts).
   */
  constructor(
    readonly gpu: GPU,
    private readonly onCompile: () => void,
    private readonly loopLimit: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  /**
   * The compiled kernel of `source` over a 1-D output of `outSize` (in cpu mode with `onCpu`),
   * calling the GLSL functions `natives` (webgl2).
   */
  kernel(
    source: string,
    outSize: number,
    argSizes: readonly number[],
    onCpu = false,
    natives: readonly NativeFunction[] = [],
  ): IKernelRunShortcut {
    const key = `${source}\n/* out ${outSize} args ${argSizes.join(',')}${onCpu ? ' cpu' : ''} */${natives.map((f) => `\n${f.source}`).join('')}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      const limit = onCpu ? Number.POSITIVE_INFINITY : this.loopLimit();
      const loops = limit < Number.POSITIVE_INFINITY ? loopIterations(source) : 0;
      if (loops > limit) {
        throw new Error(
          `@gpunet/kernels (${this.gpu.mode}): a kernel would loop ${loops} times per thread, over the ` +
            `${limit} iterations after which a GL driver (llvmpipe) stops a shader's loops and returns a ` +
            `wrong result; this op at these shapes is not split under that limit:\n${source.slice(0, 200)}`,
        );
      }
      if (onCpu) this.cpuGpu ??= new GPU({ mode: 'cpu' });
      const gpu = onCpu && this.cpuGpu ? this.cpuGpu : this.gpu;
      kernel = gpu.createKernel(source, {
        output: [outSize],
        pipeline: true,
        // A fresh output texture per call: without it a GL kernel overwrites its last output.
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        ...(natives.length > 0 ? { nativeFunctions: [...natives] } : {}),
      });
      this.kernels.set(key, kernel);
      this.onCompile();
    }
    return kernel;
  }

  /** Destroys every compiled kernel and the GPU instances. */
  destroy(): void {
    for (const k of this.kernels.values()) k.destroy();
    this.kernels.clear();
    this.gpu.destroy();
    this.cpuGpu?.destroy();
  }
}

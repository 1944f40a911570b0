/**
 * The gpu.js modes gpunet can run on, and what each needs to start here. Users pick from
 * webgpu, webgl2, webgl and headlessgl (see choose.ts); `webasm` and `cpu` are registered too,
 * as test modes: the conformance suite runs on them in Node without a GPU or a display.
 */
import { GPU } from 'gpu.js';

/** A gpu.js mode, each registered as a backend of the same name. */
export type GpuMode = 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';

/** Every mode, GPU modes first (best first), then the test modes. */
export const GPU_MODES: readonly GpuMode[] = [
  'webgpu',
  'webgl2',
  'webgl',
  'headlessgl',
  'webasm',
  'cpu',
];

/** Whether a mode can start in this process, and if not, why and what to do about it. */
export interface ModeSupport {
  mode: GpuMode;
  isSupported: boolean;
  /** Why the mode cannot start here, with the remedy; empty when it can. */
  reason: string;
}

/** True in Node (not in a browser, nor in a page's Node-like test environment). */
export const isNode =
  typeof process !== 'undefined' &&
  process.versions?.node !== undefined &&
  !('window' in globalThis);

/**
 * Whether a gpu.js mode can run here: a synchronous probe, no kernel is compiled. For webgpu it
 * is optimistic (the API is there, or in Node Dawn can provide it): the backend's factory and
 * `probeBackend` ask for an adapter.
 */
export function probeMode(mode: GpuMode): ModeSupport {
  const no = (reason: string): ModeSupport => ({ mode, isSupported: false, reason });
  const yes: ModeSupport = { mode, isSupported: true, reason: '' };
  switch (mode) {
    case 'cpu':
      return yes;
    case 'webasm':
      return GPU.isWebAssemblySupported
        ? yes
        : no('webasm needs WebAssembly with SIMD (Node >= 16.4 or a current browser)');
    case 'headlessgl':
      if (!isNode) return no('headlessgl runs only in Node; in a browser use webgl2 or webgl');
      return GPU.isHeadlessGLSupported
        ? yes
        : no(
            'headlessgl needs the `gl` package built from source (apt: libxi-dev libx11-dev libxext-dev ' +
              'libgl1-mesa-dev; allow its build in pnpm `onlyBuiltDependencies`, then `pnpm rebuild gl`) ' +
              'and an X display: run Node under `xvfb-run -a` on a machine without one',
          );
    case 'webgl2':
      return GPU.isWebGL2Supported
        ? yes
        : no(
            isNode
              ? 'webgl2 runs only in a browser; in Node use headlessgl'
              : 'this browser has no WebGL2 context',
          );
    case 'webgl':
      return GPU.isWebGLSupported
        ? yes
        : no(
            isNode
              ? 'webgl runs only in a browser; in Node use headlessgl'
              : 'this browser has no WebGL context',
          );
    case 'webgpu':
      // navigator.gpu proves the API, not an adapter: the backend's factory asks for one. In
      // Node the factory sets navigator.gpu up with Dawn (node-webgpu.ts).
      return isNode || GPU.isWebGPUSupported
        ? yes
        : no('this browser has no WebGPU (navigator.gpu); use webgl2, or the wasm backend');
  }
}

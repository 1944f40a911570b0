/**
 * The gpu.js modes gpunet can run on, and what each needs to start here.
 */
import { GPU } from 'gpu.js';

/** A gpu.js mode, each registered as a backend of the same name. */
export type GpuMode = 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';

/**
 * The name of a gpu.js backend: one per mode, plus `webasm-threads` (webasm under gpu.js's
 * asynchronous contract, which splits kernels over worker threads; reads must be awaited).
 */
export type GpuBackendName = GpuMode | 'webasm-threads';

/** Every mode, best first: the order `auto` tries them in. */
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
  mode: GpuBackendName;
  isSupported: boolean;
  /** Why the mode cannot start here, with the remedy; empty when it can. */
  reason: string;
}

const isNode =
  typeof process !== 'undefined' &&
  process.versions?.node !== undefined &&
  !('window' in globalThis);

/**
 * Whether a gpu.js mode (or backend: `webasm-threads` runs where webasm does) can run here (a
 * synchronous probe; no kernel is compiled).
 */
export function probeMode(mode: GpuBackendName): ModeSupport {
  const no = (reason: string): ModeSupport => ({ mode, isSupported: false, reason });
  const yes: ModeSupport = { mode, isSupported: true, reason: '' };
  switch (mode) {
    case 'cpu':
      return yes;
    case 'webasm':
    case 'webasm-threads':
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
      // navigator.gpu proves the API, not an adapter: the backend's factory asks for one.
      return GPU.isWebGPUSupported
        ? yes
        : no(
            isNode
              ? 'webgpu in Node needs a WebGPU implementation installed as `navigator.gpu` (the `webgpu` package, Dawn, on a machine with a GPU); without a GPU use headlessgl or the wasm backend'
              : 'this browser has no WebGPU (navigator.gpu); use webgl2, or the wasm backend',
          );
  }
}

/** The mode `auto` picks, with the reasons the better modes were passed over. */
export interface AutoChoice {
  mode: GpuMode;
  /** One line per better mode that was passed over, saying why. */
  passedOver: string[];
}

/** Picks the best mode that can run here; `cpu` always can. */
export function chooseMode(): AutoChoice {
  const passedOver: string[] = [];
  for (const mode of GPU_MODES) {
    const support = probeMode(mode);
    if (support.isSupported) return { mode, passedOver };
    passedOver.push(`${mode}: ${support.reason}`);
  }
  return { mode: 'cpu', passedOver };
}

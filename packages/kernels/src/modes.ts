import gpujs from 'gpu.js';

/** The gpu.js modes, best first. */
export const GPU_MODES = ['webgpu', 'webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'] as const;
export type GpuMode = (typeof GPU_MODES)[number];

/** Modes whose kernels this package implements and tests today. */
export const IMPLEMENTED_MODES: readonly GpuMode[] = ['webasm', 'cpu'];

/** Whether a mode can run here, and if not, why and what to do. */
export interface ModeAvailability {
  mode: GpuMode;
  available: boolean;
  reason?: string;
}

const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ===
  'string';

/** Checks one mode: what gpu.js reports, plus whether this package implements it yet. */
export function modeAvailability(mode: GpuMode): ModeAvailability {
  const { GPU } = gpujs;
  const no = (reason: string): ModeAvailability => ({ mode, available: false, reason });
  switch (mode) {
    case 'webgpu':
      if (!GPU.isWebGPUSupported) {
        return no(
          isNode
            ? 'needs navigator.gpu: install the `webgpu` package (Dawn) and assign its gpu object to globalThis.navigator.gpu, on a machine with a GPU'
            : 'this browser exposes no navigator.gpu (WebGPU)',
        );
      }
      break;
    case 'webgl2':
    case 'webgl':
      if (!(mode === 'webgl2' ? GPU.isWebGL2Supported : GPU.isWebGLSupported)) {
        return no(
          isNode
            ? `${mode} needs a browser; in Node use 'headlessgl'`
            : `this browser cannot create a ${mode} context`,
        );
      }
      break;
    case 'headlessgl':
      if (!GPU.isHeadlessGLSupported) {
        return no(
          'needs the `gl` package built from source (apt: libxi-dev libx11-dev libxext-dev libgl1-mesa-dev; ' +
            'allow its build script, e.g. pnpm onlyBuiltDependencies) and a display (run under `xvfb-run -a`)',
        );
      }
      break;
    case 'webasm':
      if (!GPU.isWebAssemblySupported) return no('this JavaScript engine has no WebAssembly');
      break;
    case 'cpu':
      break;
  }
  if (!IMPLEMENTED_MODES.includes(mode)) {
    return no(`gpu.js can run ${mode} here, but @gpunet/kernels does not implement that mode yet`);
  }
  return { mode, available: true };
}

/** The best mode that runs here, and why each better one was passed over. */
export function resolveAuto(): { mode: GpuMode; passedOver: ModeAvailability[] } {
  const passedOver: ModeAvailability[] = [];
  for (const mode of GPU_MODES) {
    const availability = modeAvailability(mode);
    if (availability.available) return { mode, passedOver };
    passedOver.push(availability);
  }
  return { mode: 'cpu', passedOver };
}

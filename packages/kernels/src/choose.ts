/**
 * The backends a user picks from, and `auto`: one policy for every front end (the CLI's
 * `--backend`, the web page, a library user's `setBackend('auto')`).
 *
 * `auto` takes the first of webgpu, webgl2, webgl and headlessgl that starts here on a real GPU
 * (a CPU rasteriser, SwiftShader or llvmpipe, is slower than WebAssembly SIMD), and otherwise the
 * CPU backend: `wasm` (@gpunet/wasm) when it is registered, else `reference`. @gpunet/kernels
 * does not depend on @gpunet/wasm: import it (or name another CPU backend) to have it chosen.
 */
import { listBackends } from '@gpunet/tensor';
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';
import { type GpuMode, isNode, probeMode } from './modes.js';
import { installNodeWebGPU, softwareAdapter, type WebGPUEntry } from './node-webgpu.js';

/** The backends users pick from, best first: the order `auto` tries them in. */
export const BACKEND_NAMES = [
  'webgpu',
  'webgl2',
  'webgl',
  'headlessgl',
  'wasm',
  'reference',
] as const;

/** A backend users pick from (`auto` resolves to one of these). */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The GPU backends (gpu.js modes) among `BACKEND_NAMES`, which `auto` tries first. */
export const GPU_BACKENDS = ['webgpu', 'webgl2', 'webgl', 'headlessgl'] as const;

/** What a backend runs on here, found by starting it (an adapter, a GL context). */
export interface BackendProbe {
  name: string;
  /** Whether it can start here. */
  isSupported: boolean;
  /** Why it cannot start, with the remedy; empty when it can. */
  reason: string;
  /** The device it runs on (adapter or GL renderer), when known. */
  device: string;
  /** Why the device is a CPU rasteriser rather than a GPU (empty for a GPU or unknown). */
  software: string;
}

/** The backend `auto` chose, and why each better one was passed over. */
export interface AutoChoice {
  /** The backend chosen (registered under this name). */
  name: string;
  /** One line for people: what runs, on what. */
  description: string;
  /** One line per better backend passed over, `name: why`. */
  passedOver: string[];
}

/** The part of a WebGL context the renderer probe uses. */
interface MinimalGl {
  readonly RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(name: number): unknown;
}

const SOFTWARE_RENDERER = /llvmpipe|softpipe|swiftshader|software|swrast|basic render/i;

/** The renderer string of gpu.js's test context of a GL mode, or '' when it has none. */
function glRenderer(mode: 'webgl2' | 'webgl' | 'headlessgl'): string {
  const kernelClass = { webgl2: WebGL2Kernel, webgl: WebGLKernel, headlessgl: HeadlessGLKernel }[
    mode
  ];
  // gpu.js keeps the context it probed the mode with as a static `testContext`.
  const gl = (kernelClass as { testContext?: MinimalGl | null }).testContext;
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info') as {
    UNMASKED_RENDERER_WEBGL: number;
  } | null;
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
}

/** Why WebGPU gives no adapter here, or the adapter's description. */
async function webgpuAdapter(): Promise<{ reason: string; device: string; software: string }> {
  if (isNode) {
    try {
      const { adapter, drivers } = await installNodeWebGPU();
      const device = `${adapter.description || adapter.device} (Dawn, Vulkan drivers: ${drivers})`;
      return { reason: '', device, software: softwareAdapter(adapter) ?? '' };
    } catch (error) {
      return { reason: (error as Error).message, device: '', software: '' };
    }
  }
  const gpu = (globalThis as { navigator?: { gpu?: WebGPUEntry } }).navigator?.gpu;
  if (!gpu) return { reason: probeMode('webgpu').reason, device: '', software: '' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter)
    return {
      reason: 'navigator.gpu gives no adapter (no usable GPU, or WebGPU is disabled)',
      device: '',
      software: '',
    };
  const info = adapter.info;
  return {
    reason: '',
    device: info ? info.description || `${info.vendor} ${info.architecture}`.trim() : '',
    software: softwareAdapter(info) ?? '',
  };
}

/**
 * Whether a backend can start here and on what, found by starting what it needs: a WebGPU
 * adapter (in Node, Dawn: see node-webgpu.ts), a GL context. `wasm` and `reference` are
 * supported when registered (import @gpunet/wasm for `wasm`).
 */
export async function probeBackend(name: BackendName | GpuMode): Promise<BackendProbe> {
  const result = (reason: string, device = '', software = ''): BackendProbe => ({
    name,
    isSupported: reason === '',
    reason,
    device,
    software,
  });
  if (name === 'wasm' || name === 'reference') {
    return listBackends().includes(name)
      ? result('', name === 'wasm' ? 'CPU (WebAssembly SIMD)' : 'CPU (TypeScript loops)')
      : result(
          `'${name}' is not registered: import @gpunet/${name === 'wasm' ? 'wasm' : 'tensor'}`,
        );
  }
  if (name === 'webgpu') {
    const { reason, device, software } = await webgpuAdapter();
    return result(reason, device, software);
  }
  const support = probeMode(name);
  if (!support.isSupported) return result(support.reason);
  if (name === 'webgl2' || name === 'webgl' || name === 'headlessgl') {
    const renderer = glRenderer(name);
    const software = SOFTWARE_RENDERER.test(renderer)
      ? `the GL renderer is ${renderer}, a CPU rasteriser`
      : '';
    return result('', renderer, software);
  }
  return result('', name === 'cpu' ? 'CPU (JavaScript)' : 'CPU (WebAssembly)');
}

/**
 * The `auto` policy (see the file comment): the first GPU backend that starts here on a real
 * GPU, else `cpu` (default: `wasm` when registered, else `reference`). Says why it passed over
 * each better backend. Does not make the choice current: `await setBackend(choice.name)`.
 */
export async function chooseBackend(options: { cpu?: string } = {}): Promise<AutoChoice> {
  const passedOver: string[] = [];
  for (const name of GPU_BACKENDS) {
    const probe = await probeBackend(name);
    if (!probe.isSupported) passedOver.push(`${name}: ${probe.reason}`);
    else if (probe.software)
      passedOver.push(`${name}: ${probe.software}, slower than the CPU backend`);
    else
      return {
        name,
        description: `${name} (gpu.js${probe.device ? ` on ${probe.device}` : ''})`,
        passedOver,
      };
  }
  const cpu = options.cpu ?? (listBackends().includes('wasm') ? 'wasm' : 'reference');
  if (cpu !== 'wasm' && !options.cpu)
    passedOver.push(
      "wasm: not registered (import '@gpunet/wasm' for the WebAssembly SIMD backend)",
    );
  return { name: cpu, description: `${cpu} (CPU)`, passedOver };
}

/** Whether WebGPU can give an adapter here (in Node, after setting up Dawn). */
export async function isWebGPUAvailable(): Promise<boolean> {
  if (isNode) return (await webgpuAdapter()).reason === '';
  return GPU.isWebGPUAvailable();
}

/**
 * The backends the page offers, what each one is on this device, and why one that cannot start
 * here cannot. gpu.js modes come from @gpunet/kernels, `wasm` from @gpunet/wasm, `reference`
 * from @gpunet/tensor. gpu.js's `cpu` and `webasm` modes are test modes, not offered: the wasm
 * backend is the CPU path.
 */
import { type GpuMode, probeMode } from '@gpunet/kernels';
import { canShareMemory } from '@gpunet/wasm';

/** A backend choice; `reason` says why it cannot start here, empty when it can. */
export interface BackendChoice {
  name: string;
  label: string;
  /** What it is on this device: GPU through gpu.js (and which renderer), CPU Wasm SIMD with N threads, the oracle. */
  what: string;
  reason: string;
}

/** The WebGL renderer's name (`ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device...))`), or ''. */
function glRenderer(kind: 'webgl2' | 'webgl'): string {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext(kind) as WebGLRenderingContext | null;
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** `GPU through gpu.js (renderer)`, saying so when the "GPU" is a software renderer. */
function gpuWhat(api: string, renderer: string): string {
  if (!renderer) return `GPU through gpu.js (${api})`;
  return SOFTWARE.test(renderer)
    ? `gpu.js on ${api}, but the renderer is a software one running on the CPU (${renderer})`
    : `GPU through gpu.js (${api} on ${renderer})`;
}

/** Why WebGPU cannot start in this browser, or '' with the adapter's description. */
async function webgpuProbe(): Promise<{ reason: string; adapter: string }> {
  type Adapter = { info?: { vendor?: string; architecture?: string; description?: string } };
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<Adapter | null> } }).gpu;
  if (!gpu) {
    return {
      reason:
        'this browser has no navigator.gpu (WebGPU is off, unsupported, or the page is not served over HTTPS)',
      adapter: '',
    };
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      return { reason: 'navigator.gpu gave no adapter (no usable GPU or driver)', adapter: '' };
    const info = adapter.info ?? {};
    return {
      reason: '',
      adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' '),
    };
  } catch (error) {
    return { reason: `navigator.gpu.requestAdapter failed: ${String(error)}`, adapter: '' };
  }
}

/** The number of threads the wasm backend runs here, and why not more. */
export function wasmThreads(): { threads: number; remark: string } {
  const isolated = globalThis.crossOriginIsolated === true && canShareMemory();
  return isolated
    ? { threads: navigator.hardwareConcurrency, remark: 'Web Workers on shared memory' }
    : { threads: 1, remark: 'one thread: the page is not cross-origin isolated' };
}

/** Probes every backend the page offers, best first. */
export async function probeBackends(): Promise<BackendChoice[]> {
  const choices: BackendChoice[] = [];
  const webgpu = await webgpuProbe();
  const gpuModes: [Extract<GpuMode, 'webgpu' | 'webgl2' | 'webgl'>, string][] = [
    ['webgpu', 'WebGPU'],
    ['webgl2', 'WebGL2'],
    ['webgl', 'WebGL'],
  ];
  for (const [mode, label] of gpuModes) {
    let reason = mode === 'webgpu' ? webgpu.reason : '';
    if (!reason) reason = probeMode(mode).reason;
    const renderer = mode === 'webgpu' ? webgpu.adapter : reason ? '' : glRenderer(mode);
    if (!reason && mode !== 'webgpu' && !renderer)
      reason = `this browser gives no ${label} context`;
    choices.push({ name: mode, label, what: gpuWhat(label, renderer), reason });
  }
  const { threads, remark } = wasmThreads();
  choices.push({
    name: 'wasm',
    label: 'Wasm',
    what: `CPU, WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'} (${remark}; @gpunet/wasm)`,
    reason: typeof WebAssembly === 'object' ? '' : 'this browser has no WebAssembly',
  });
  choices.push({
    name: 'reference',
    label: 'Reference',
    what: 'CPU, plain TypeScript loops: the oracle the others are tested against, and slow',
    reason: '',
  });
  return choices;
}

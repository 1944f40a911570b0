/**
 * The backends the page offers, and whether each can start in this browser. gpu.js modes come
 * from @gpunet/kernels, `wasm` from @gpunet/wasm, `reference` from @gpunet/tensor.
 */
import { type GpuMode, probeMode } from '@gpunet/kernels';
import { canShareMemory } from '@gpunet/wasm';

/** A backend choice; `reason` says why it cannot start here, empty when it can. */
export interface BackendChoice {
  name: string;
  label: string;
  reason: string;
  /** A remark shown beside an available backend (threads, precision). */
  note: string;
}

const GPU_LABELS: [GpuMode, string][] = [
  ['webgpu', 'WebGPU (gpu.js)'],
  ['webgl2', 'WebGL2 (gpu.js)'],
  ['webasm', 'Wasm (gpu.js webasm)'],
  ['cpu', 'CPU (gpu.js cpu)'],
];

/** Why WebGPU cannot start in this browser, or '' when an adapter was found. */
async function webgpuBrowserReason(): Promise<string> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no navigator.gpu (WebGPU is off or unsupported)';
  try {
    return (await gpu.requestAdapter()) ? '' : 'navigator.gpu gave no adapter';
  } catch (error) {
    return `navigator.gpu.requestAdapter failed: ${String(error)}`;
  }
}

/** Probes every backend the page offers, best first. */
export async function probeBackends(): Promise<BackendChoice[]> {
  const choices: BackendChoice[] = [];
  for (const [mode, label] of GPU_LABELS) {
    let reason = mode === 'webgpu' ? await webgpuBrowserReason() : '';
    if (!reason) reason = probeMode(mode).reason;
    choices.push({ name: mode, label, reason, note: '' });
  }
  const isolated = globalThis.crossOriginIsolated === true && canShareMemory();
  choices.push({
    name: 'wasm',
    label: 'Wasm SIMD (@gpunet/wasm)',
    reason: typeof WebAssembly === 'object' ? '' : 'this browser has no WebAssembly',
    // @gpunet/wasm starts Web Workers on a shared memory where the page is cross-origin isolated.
    note: isolated
      ? `${navigator.hardwareConcurrency} threads (Web Workers)`
      : 'one thread (the page is not cross-origin isolated)',
  });
  choices.push({
    name: 'reference',
    label: 'Reference (plain TS)',
    reason: '',
    note: 'the oracle',
  });
  return choices;
}

/**
 * `--backend`: the engine backend a command runs on. `auto` takes a GPU mode only when it is a
 * real GPU (a software renderer is slower than the Wasm CPU backend) and otherwise `wasm`, and
 * says what it chose and why the better ones were passed over.
 */
import { createRequire } from 'node:module';
import { getBackend, setBackend } from '@gpunet/tensor';
import { CliError } from './errors.js';

/** Names `--backend` accepts. */
export const BACKEND_NAMES = [
  'auto',
  'webgpu',
  'webgl2',
  'webgl',
  'headlessgl',
  'webasm',
  'cpu',
  'wasm',
  'reference',
] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];

/** What `selectBackend` did. */
export interface BackendChoice {
  /** The backend now current (e.g. `wasm`, `headlessgl`). */
  name: string;
  /** One line for people: what runs, and for `auto` why. */
  description: string;
  /** For `auto`: the better options passed over, each with its reason. */
  passedOver: string[];
}

/** The part of a WebGL context the renderer probe uses. */
interface MinimalGl {
  readonly RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(name: number): unknown;
}

const SOFTWARE_RENDERERS = /llvmpipe|softpipe|swiftshader|software|swrast/i;

/** The GL renderer string headless-gl reports, or null when no context can be made. */
function headlessGlRenderer(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const createContext = require('gl') as (w: number, h: number) => MinimalGl | null;
    const gl = createContext(1, 1);
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info') as {
      UNMASKED_RENDERER_WEBGL: number;
    } | null;
    const renderer = String(
      gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? 'unknown',
    );
    (gl.getExtension('STACKGL_destroy_context') as { destroy(): void } | null)?.destroy();
    return renderer;
  } catch {
    return null;
  }
}

async function wasmDescription(): Promise<string> {
  const backend = getBackend() as { pool?: { size: number }; threadNote?: string };
  const threads = backend.pool?.size ?? 1;
  return `wasm (WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'})${backend.threadNote ? `; ${backend.threadNote}` : ''}`;
}

/** Makes `name` the current backend. Errors say why a backend cannot run here and what to do. */
export async function selectBackend(name: string): Promise<BackendChoice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new CliError(`--backend '${name}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (name === 'reference') {
    await setBackend('reference');
    return { name, description: 'reference (plain TypeScript loops)', passedOver: [] };
  }
  if (name === 'wasm') {
    await import('@gpunet/wasm');
    await setBackend('wasm');
    return { name, description: await wasmDescription(), passedOver: [] };
  }
  const kernels = await import('@gpunet/kernels');
  if (name !== 'auto') {
    const support = kernels.probeMode(name as Parameters<typeof kernels.probeMode>[0]);
    if (!support.isSupported) throw new CliError(`--backend ${name}: ${support.reason}`);
    await setBackend(name);
    return { name, description: `${name} (gpu.js)`, passedOver: [] };
  }
  const passedOver: string[] = [];
  for (const mode of ['webgpu', 'webgl2', 'webgl', 'headlessgl'] as const) {
    const support = kernels.probeMode(mode);
    if (!support.isSupported) {
      passedOver.push(`${mode}: ${support.reason}`);
      continue;
    }
    const renderer = mode === 'headlessgl' ? headlessGlRenderer() : null;
    if (renderer !== null && SOFTWARE_RENDERERS.test(renderer)) {
      passedOver.push(
        `${mode}: the GL renderer is software (${renderer}), slower than the Wasm CPU backend`,
      );
      continue;
    }
    await setBackend(mode);
    return {
      name: mode,
      description: `${mode} (gpu.js${renderer ? ` on ${renderer}` : ''})`,
      passedOver,
    };
  }
  await import('@gpunet/wasm');
  await setBackend('wasm');
  return { name: 'wasm', description: await wasmDescription(), passedOver };
}

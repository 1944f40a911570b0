/**
 * `--backend`: the engine backend a command runs on. The names and the `auto` policy are
 * @gpunet/kernels' (`BACKEND_NAMES`, `chooseBackend`), the ones the web page offers too: `auto`
 * takes a GPU mode only on a real GPU (a CPU rasteriser is slower than the Wasm CPU backend),
 * otherwise `wasm`, and says what it chose and why the better ones were passed over.
 */
import {
  chooseBackend,
  BACKEND_NAMES as KERNEL_BACKEND_NAMES,
  probeBackend,
} from '@gpunet/kernels';
import { getBackend, setBackend } from '@gpunet/tensor';
import { CliError } from './errors.js';

/** Names `--backend` accepts: `auto`, then every backend users pick from, best first. */
export const BACKEND_NAMES = ['auto', ...KERNEL_BACKEND_NAMES] as const;

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

function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

async function wasmDescription(): Promise<string> {
  const backend = getBackend() as {
    pool?: { size: number };
    threadNote?: string;
    heap?: { relaxedSimd: boolean };
  };
  const threads = backend.pool?.size ?? 1;
  const simd = backend.heap?.relaxedSimd ? 'WebAssembly SIMD with FMA' : 'WebAssembly SIMD';
  return `wasm (${simd}, ${threads} thread${threads === 1 ? '' : 's'})${backend.threadNote ? `; ${backend.threadNote}` : ''}`;
}

/** Makes `name` the current backend. Errors say why a backend cannot run here and what to do. */
export async function selectBackend(name: string): Promise<BackendChoice> {
  if (!isBackendName(name)) {
    throw new CliError(`--backend '${name}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  // Registers `wasm`, the CPU backend `auto` falls back to.
  if (name === 'wasm' || name === 'auto') await import('@gpunet/wasm');
  let choice: BackendChoice;
  if (name === 'auto') choice = await chooseBackend();
  else {
    const probe = await probeBackend(name);
    if (!probe.isSupported) throw new CliError(`--backend ${name}: ${probe.reason}`);
    const on = name === 'reference' ? 'plain TypeScript loops' : probe.device;
    choice = { name, description: `${name}${on ? ` (${on})` : ''}`, passedOver: [] };
  }
  await setBackend(choice.name);
  if (choice.name === 'wasm') choice.description = await wasmDescription();
  return choice;
}

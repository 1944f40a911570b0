import type { Backend } from '@gpunet/tensor';
import { WasmBackend } from '../backend.js';

/** The wasm backend behind a kernel call. */
export function asWasm(backend: Backend): WasmBackend {
  if (!(backend instanceof WasmBackend))
    throw new Error(`internal: expected the wasm backend, got '${backend.name}'`);
  return backend;
}

/**
 * Node-only conveniences of @gpunet/layers (`@gpunet/layers/node`): read and write weights
 * files by path. The main entry takes bytes and works in the browser too.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readOnnx } from './onnx/read.js';
import { type ReadPthOptions, readPth } from './pth.js';
import { type WritePthOptions, writePth } from './pth-write.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { StateDictLike } from './state-dict.js';
import { type WeightsFile, WeightsFormatError } from './weights-file.js';

/**
 * Reads a weights file by path: `.safetensors` with `readSafetensors`, `.pth`/`.pt`/`.bin`
 * with `readPth`, `.onnx` with `readOnnx` (tensors: the Conv and Gemm weights by initializer
 * name, which are state-dict keys in files that gpunet or PyTorch exported; `onnx`: the graph,
 * for `loadOnnx`, which pairs layers by position whatever the names).
 * Errors name the file.
 */
export async function loadWeights(
  path: string,
  options: ReadPthOptions = {},
): Promise<WeightsFile> {
  const isSafetensors = path.endsWith('.safetensors');
  const isOnnx = path.endsWith('.onnx');
  if (!isSafetensors && !isOnnx && !/\.(pth|pt|bin)$/.test(path)) {
    throw new WeightsFormatError(
      `${path}: unknown weights file extension (expected .safetensors, .pth, .pt, .bin or .onnx)`,
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  try {
    if (isOnnx) {
      const graph = readOnnx(bytes);
      return { tensors: graph.initializers, skipped: [], metadata: graph.metadata, onnx: graph };
    }
    return isSafetensors ? readSafetensors(bytes) : readPth(bytes, options);
  } catch (error) {
    if (error instanceof Error) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

/** Writes tensors (a state dict) to a `.safetensors` file. */
export async function saveSafetensors(
  path: string,
  tensors: StateDictLike,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(path, await writeSafetensors(tensors, metadata));
}

/** Writes bytes to `<path>.tmp` and renames it over `path`, so a failed write leaves nothing half-done. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes tensors (a state dict) to a PyTorch `.pth` file (`writePth`), atomically. */
export async function savePth(
  path: string,
  tensors: StateDictLike,
  options: WritePthOptions = {},
): Promise<void> {
  await writeAtomic(path, await writePth(tensors, options));
}

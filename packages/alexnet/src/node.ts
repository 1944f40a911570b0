/**
 * @gpunet/alexnet/node: checkpoint files for Node (the core package stays browser-safe).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from './checkpoint.js';

/**
 * Writes a checkpoint to `path` (a `.safetensors` file) atomically: to `<path>.tmp` first,
 * then renamed over `path`, so a crash mid-write leaves the previous checkpoint intact.
 */
export async function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const bytes = await encodeCheckpoint(checkpoint);
  const temporary = `${path}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** Reads a checkpoint written by `saveCheckpoint`; dispose it with `disposeCheckpoint` once resumed. */
export async function loadCheckpoint(path: string): Promise<TrainingCheckpoint> {
  return decodeCheckpoint(new Uint8Array(await readFile(path)));
}

/** A `saveCheckpoint` option for `Trainer` / `train` that writes every epoch to `path`. */
export function fileCheckpointer(path: string): (checkpoint: TrainingCheckpoint) => Promise<void> {
  return (checkpoint) => saveCheckpoint(path, checkpoint);
}

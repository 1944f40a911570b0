/**
 * The first pass over an image folder, before training: every file decoded once, the
 * undecodable ones listed with their reasons, and the channel statistics measured on the way.
 */
import { DataLoader } from '@gpunet/data';
import { type DataSource, type Preprocessing, transformFor } from './data.js';
import type { Reporter } from './progress.js';

/** An image the first pass could not decode. */
export interface BadImage {
  file: string;
  reason: string;
}

/**
 * The first pass over an image folder: decodes every file once (on the loader's workers), lists
 * every one that cannot be decoded with its reason, and, when `withStats`, measures the
 * per-channel mean and std of the training images at the model's input size (for `normalize`).
 */
export async function firstPass(
  source: DataSource,
  pre: Preprocessing,
  options: { workers: number; withStats: boolean },
  report: Reporter,
): Promise<{ images: number; bad: BadImage[]; stats: { mean: number[]; std: number[] } | null }> {
  const files = source.files;
  if (!files) return { images: 0, bad: [], stats: null };
  const transform = transformFor(source, { ...pre, mean: [], std: [] }, 'eval');
  const bad: BadImage[] = [];
  let images = 0;
  let sums: number[] = [];
  let squares: number[] = [];
  let pixels = 0;
  const datasets = files.scan(transform);
  const total = datasets.reduce((n, d) => n + d.length, 0);
  report.startBar(Math.ceil(total / 32), 'checking images', '{ok} decoded | {bad} undecodable');
  let batches = 0;
  for (const [k, dataset] of datasets.entries()) {
    const loader = new DataLoader(dataset, {
      batchSize: 32,
      numWorkers: options.workers,
      onError: 'skip',
    });
    try {
      for await (const batch of loader) {
        const [n = 0, channels = 0, height = 0, width = 0] = batch.images.shape;
        images += n;
        // Statistics of the training folder only (the first one scanned).
        if (options.withStats && k === 0) {
          const values = (await batch.images.data()) as Float32Array;
          if (sums.length === 0) {
            sums = new Array(channels).fill(0);
            squares = new Array(channels).fill(0);
          }
          const plane = height * width;
          for (let i = 0; i < n; i++)
            for (let c = 0; c < channels; c++) {
              let sum = 0;
              let square = 0;
              const offset = (i * channels + c) * plane;
              for (let p = 0; p < plane; p++) {
                const v = values[offset + p] as number;
                sum += v;
                square += v * v;
              }
              sums[c] = (sums[c] as number) + sum;
              squares[c] = (squares[c] as number) + square;
            }
          pixels += n * plane;
        }
        batch.images.dispose();
        batch.labels.dispose();
        batches++;
        report.updateBar(batches, {
          ok: String(images),
          bad: String(bad.length + loader.skipped.length),
        });
      }
    } finally {
      await loader.close();
    }
    for (const s of loader.skipped)
      bad.push({ file: s.source, reason: s.message.replace(`${s.source}: `, '') });
  }
  report.stopBar();
  const stats =
    options.withStats && pixels > 0
      ? {
          mean: sums.map((s) => s / pixels),
          std: squares.map((q, c) =>
            Math.sqrt(Math.max(q / pixels - ((sums[c] as number) / pixels) ** 2, 1e-6)),
          ),
        }
      : null;
  return { images, bad, stats };
}

import { Generator } from '@gpunet/tensor';

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of integers into one 32-bit seed (order matters). */
export function mixSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const p of parts) {
    // Fold in the high bits too, so seeds above 2^32 still differ.
    h = fmix32((h ^ fmix32(p >>> 0)) + Math.floor(p / 2 ** 32));
  }
  return h;
}

/**
 * The generator for one sample's augmentation, from (seed, epoch, index) alone: the same on any
 * worker, in any order, so batches do not depend on the worker count.
 */
export function sampleGenerator(seed: number, epoch: number, index: number): Generator {
  return new Generator(mixSeed(seed, epoch, index, 1));
}

/** The generator for one epoch's shuffle. */
export function epochGenerator(seed: number, epoch: number): Generator {
  return new Generator(mixSeed(seed, epoch, 0));
}

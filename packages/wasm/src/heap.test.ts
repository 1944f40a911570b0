import { describe, expect, it } from 'vitest';
import { WasmHeap } from './heap.js';

const KiB = 1024;

describe('WasmHeap', () => {
  it('reuses freed space of any size: neighbours merge, a larger block is split, the top drops', () => {
    const heap = WasmHeap.createSync(false);
    const start = heap.used;
    const a = heap.alloc(100 * KiB);
    const b = heap.alloc(200 * KiB);
    const c = heap.alloc(100 * KiB);
    expect([a, b, c]).toEqual([start, start + 100 * KiB, start + 300 * KiB]);
    heap.release(a, 100 * KiB);
    heap.release(b, 200 * KiB);
    // a and b merged: 300 KiB free below c, which a 250 KiB block now takes, at a's offset.
    expect(heap.freeBytes).toBe(300 * KiB);
    expect(heap.alloc(250 * KiB)).toBe(a);
    expect(heap.freeBytes).toBe(50 * KiB);
    // The split-off 50 KiB serves a 40 KiB block (64-byte aligned sizes) without growing.
    expect(heap.alloc(40 * KiB)).toBe(a + 250 * KiB);
    expect(heap.used).toBe(start + 400 * KiB);
    // Freeing the highest block lowers the top; freeing everything leaves nothing free below it.
    heap.release(c, 100 * KiB);
    expect(heap.used).toBe(start + 290 * KiB);
    heap.release(a + 250 * KiB, 40 * KiB);
    heap.release(a, 250 * KiB);
    expect(heap.used).toBe(start);
    expect(heap.freeBytes).toBe(0);
    expect(heap.liveBytes).toBe(0);
    expect(heap.highWater).toBe(start + 400 * KiB);
  });

  it('says how far it tried to grow when wasm32 cannot hold a block', () => {
    const heap = WasmHeap.createSync(false);
    expect(() => heap.alloc(heap.capacity)).toThrow(
      /cannot grow the heap to \d+ MiB to allocate 4096 MiB \(0 MiB live; wasm32 addresses at most 4096 MiB\)/,
    );
    expect(heap.used).toBeLessThan(heap.capacity);
  });
});

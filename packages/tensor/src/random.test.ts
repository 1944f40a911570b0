import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, rand, randn } from './index.js';

describe('Generator', () => {
  it('is xoshiro128**: state [1, 2, 3, 4] gives 11520, 0, 5927040 (the reference algorithm by hand)', () => {
    const g = new Generator().setState({ s: [1, 2, 3, 4], spare: null });
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('the same seed gives the same stream; another seed another', () => {
    const a = Array.from(
      { length: 5 },
      (() => {
        const g = new Generator(42);
        return () => g.nextUint32();
      })(),
    );
    const b = Array.from(
      { length: 5 },
      (() => {
        const g = new Generator(42);
        return () => g.nextUint32();
      })(),
    );
    const c = new Generator(43).nextUint32();
    expect(a).toEqual(b);
    expect(c).not.toBe(a[0]);
  });

  it('uniform has mean 1/2 and variance 1/12; normal has mean 0 and variance 1', () => {
    const g = new Generator(1);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    let z = 0;
    let z2 = 0;
    for (let i = 0; i < n; i++) {
      const u = g.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
      s2 += u * u;
      const v = g.normal();
      z += v;
      z2 += v * v;
    }
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(s2 / n - (s / n) ** 2).toBeCloseTo(1 / 12, 3);
    expect(z / n).toBeCloseTo(0, 2);
    expect(z2 / n).toBeCloseTo(1, 1);
  });

  it('getState / setState resume the stream exactly, including a pending normal', () => {
    const g = new Generator(3);
    g.normal();
    const state = g.getState();
    const next = [g.normal(), g.uniform(), g.normal()];
    expect([g.setState(state).normal(), g.uniform(), g.normal()]).toEqual(next);
  });

  it('integer(n) stays in range and hits every value', () => {
    const g = new Generator(0);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(g.integer(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('manualSeed makes rand and randn repeatable', () => {
    manualSeed(123);
    const a = [...rand([4]).dataSync(), ...randn([4]).dataSync()];
    manualSeed(123);
    const b = [...rand([4]).dataSync(), ...randn([4]).dataSync()];
    expect(a).toEqual(b);
  });
});

describe('Generator bulk fills', () => {
  it('fillUniform gives exactly the numbers of repeated uniform() calls, and leaves the same state', () => {
    const a = new Generator(7);
    const b = new Generator(7);
    const bulk = a.fillUniform(new Float32Array(1001), -0.25, 0.75);
    const one = Float32Array.from({ length: 1001 }, () => -0.25 + (0.75 - -0.25) * b.uniform());
    expect(Array.from(bulk)).toEqual(Array.from(one));
    expect(a.getState()).toEqual(b.getState());
  });

  it('fillNormal matches repeated normal() calls, across odd counts and a pending spare', () => {
    const a = new Generator(9);
    const b = new Generator(9);
    a.normal(); // leaves a spare pending in both
    b.normal();
    for (const n of [0, 1, 4, 7]) {
      const bulk = a.fillNormal(new Float64Array(n), 0.5, 0.01);
      const one = Array.from({ length: n }, () => 0.5 + 0.01 * b.normal());
      expect(Array.from(bulk)).toEqual(one);
      expect(a.getState()).toEqual(b.getState());
    }
  });
});

/**
 * Seeded random numbers that are the same on every backend and platform: values are drawn on
 * the host with 32-bit integer arithmetic (xoshiro128**, seeded through splitmix32) and then
 * uploaded, so no backend's own RNG is involved.
 */

/** A generator's full state, for checkpoints (`getState` / `setState`). */
export interface GeneratorState {
  s: [number, number, number, number];
  /** A spare normal deviate from Box-Muller, or null. */
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded pseudo-random generator, like PyTorch's `torch.Generator`. */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restarts the stream from `seed` (any integer; only its low 32 bits count). */
  manualSeed(seed: number): this {
    const next = splitmix32(seed);
    for (let i = 0; i < 4; i++) this.s[i] = next();
    this.spare = null;
    return this;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), with 24 random bits (exactly representable in float32). */
  uniform(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Standard normal, by the Box-Muller transform. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fills `out` with U(low, high) draws: the same numbers, in the same order, as
   * `low + (high - low) * uniform()` called `out.length` times, but several times faster (the
   * state lives in locals). Returns `out`.
   */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    const scale = (high - low) / 16777216;
    const s = this.s;
    // Signed 32-bit locals: V8 keeps them in registers as small integers (unsigned values above
    // 2^31 would be boxed as doubles). The bits are the same as nextUint32's.
    let s0 = s[0] | 0;
    let s1 = s[1] | 0;
    let s2 = s[2] | 0;
    let s3 = s[3] | 0;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const result = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = low + scale * (result >>> 8);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return out;
  }

  /**
   * Fills `out` with N(mean, std^2) draws: the same numbers, in the same order, as
   * `mean + std * normal()` called `out.length` times (a pending Box-Muller spare is used first,
   * and one is left pending when the count is odd). Returns `out`.
   */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = mean + std * this.spare;
      this.spare = null;
    }
    // Two uniforms per pair, drawn in bulk a chunk at a time, then transformed as `normal()` does.
    const u = new Float64Array(Math.min(2 * ((n - i) >> 1), 8192));
    while (n - i >= 2) {
      const pairs = Math.min((n - i) >> 1, u.length >> 1);
      this.fillUniform(u.subarray(0, 2 * pairs));
      for (let p = 0; p < pairs; p++) {
        const r = Math.sqrt(-2 * Math.log(1 - u[2 * p]));
        const angle = 2 * Math.PI * u[2 * p + 1];
        out[i++] = mean + std * (r * Math.cos(angle));
        out[i++] = mean + std * (r * Math.sin(angle));
      }
    }
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }

  /** An integer in [0, n), without modulo bias. */
  integer(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32)
      throw new RangeError(`integer: n must be in 1..2^32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A copy of the state, to save in a checkpoint. */
  getState(): GeneratorState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  /** Restores a state from `getState()`; the stream continues exactly from there. */
  setState(state: GeneratorState): this {
    this.s.set(state.s);
    this.spare = state.spare;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator used when an op is given none (PyTorch's default generator). */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}

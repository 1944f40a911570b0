// Elementwise kernels with SIMD inner loops.

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAX = 4;
const MIN = 5;

@inline
function apply(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == MAX) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

// The rows of one op, with `op` a constant once inlined (so the loop has no dispatch in it):
// rows i2 in [0, d2) of every (i0, i1). The innermost dim runs 4 lanes at a time when each
// input's stride there is 0 or 1; one input broadcast along it (a conv bias) is a splat.
// @ts-ignore: decorator
@inline
function binaryRows(
  op: i32,
  a: usize, as0: i32, as1: i32, as2: i32, as3: i32,
  b: usize, bs0: i32, bs1: i32, bs2: i32, bs3: i32,
  out: usize, d0: i32, d1: i32, d2: i32, d3: i32,
): void {
  const vector = (as3 == 0 || as3 == 1) && (bs3 == 0 || bs3 == 1);
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const ap = a + (<usize>(i0 * as0 + i1 * as1 + i2 * as2) << 2);
        const bp = b + (<usize>(i0 * bs0 + i1 * bs1 + i2 * bs2) << 2);
        let i3 = 0;
        if (vector) {
          if (bs3 == 0 && as3 == 1) {
            const bv = f32x4.splat(load<f32>(bp));
            for (; i3 + 4 <= d3; i3 += 4) {
              v128.store(out, apply(op, v128.load(ap + (<usize>i3 << 2)), bv));
              out += 16;
            }
          } else if (as3 == 1 && bs3 == 1) {
            for (; i3 + 4 <= d3; i3 += 4) {
              v128.store(out, apply(op, v128.load(ap + (<usize>i3 << 2)), v128.load(bp + (<usize>i3 << 2))));
              out += 16;
            }
          } else {
            const aSplat = f32x4.splat(load<f32>(ap));
            const bSplat = f32x4.splat(load<f32>(bp));
            for (; i3 + 4 <= d3; i3 += 4) {
              const av = as3 == 0 ? aSplat : v128.load(ap + (<usize>i3 << 2));
              const bv = bs3 == 0 ? bSplat : v128.load(bp + (<usize>i3 << 2));
              v128.store(out, apply(op, av, bv));
              out += 16;
            }
          }
        }
        for (; i3 < d3; i3++) {
          const av = f32x4.splat(load<f32>(ap + (<usize>(i3 * as3) << 2)));
          const bv = f32x4.splat(load<f32>(bp + (<usize>(i3 * bs3) << 2)));
          store<f32>(out, f32x4.extract_lane(apply(op, av, bv), 0));
          out += 4;
        }
      }
    }
  }
}

/**
 * out[i0, i1, i2, i3] = a[...] op b[...] over a 4-D output; a and b are read with element strides
 * (0 along broadcast dims). f32x4.max/min propagate NaN, as PyTorch's maximum/minimum do. Threads
 * call it on slices of the output (pointers and d0 or d1 narrowed by the caller).
 */
export function binary(
  op: i32,
  a: usize, as0: i32, as1: i32, as2: i32, as3: i32,
  b: usize, bs0: i32, bs1: i32, bs2: i32, bs3: i32,
  out: usize, d0: i32, d1: i32, d2: i32, d3: i32,
): void {
  if (op == ADD) binaryRows(ADD, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
  else if (op == SUB) binaryRows(SUB, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
  else if (op == MUL) binaryRows(MUL, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
  else if (op == DIV) binaryRows(DIV, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
  else if (op == MAX) binaryRows(MAX, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
  else binaryRows(MIN, a, as0, as1, as2, as3, b, bs0, bs1, bs2, bs3, out, d0, d1, d2, d3);
}

/** y = max(x, 0) (relu, op 0) or y = x > 0 ? 1 : 0 (step, op 1) over n elements. NaN stays NaN in relu. */
export function rectify(op: i32, x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    // relu: keep v where v >= 0 or NaN (v < 0 is false for NaN), else 0.
    const r = op == 0 ? v128.bitselect(zero, v, f32x4.lt(v, zero)) : v128.and(f32x4.gt(v, zero), one);
    v128.store(y + (<usize>i << 2), r);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), op == 0 ? (v < 0 ? 0 : v) : v > 0 ? 1 : 0);
  }
}

/** out = dy where y > 0, else 0, over n values: ReLU's gradient from its output in one pass. */
export function reluGrad(dy: usize, y: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, v128.and(v128.load(dy + at), f32x4.gt(v128.load(y + at), zero)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(y + at) > 0 ? load<f32>(dy + at) : 0);
  }
}

/**
 * y[k] = sum over a < outer and b < inner of x[a, k, b], for x viewed as [outer, kept, inner]:
 * every reduction whose kept dims are contiguous (a conv bias gradient sums [N, C, H, W] over N,
 * H and W), for k in [k0, k1) (threads take ranges of k). Accumulates in float64, as the
 * reference backend does, in SIMD pairs.
 */
export function sumMiddle(x: usize, outer: i32, kept: i32, inner: i32, y: usize, k0: i32, k1: i32): void {
  for (let k = k0; k < k1; k++) {
    // Four float64x2 accumulators, so that the adds do not wait on each other.
    let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let acc: f64 = 0;
    for (let a = 0; a < outer; a++) {
      let p = x + (<usize>((a * kept + k) * inner) << 2);
      let b = 0;
      for (; b + 8 <= inner; b += 8) {
        const v = v128.load(p), w = v128.load(p, 16);
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
        a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(w));
        a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
        p += 32;
      }
      for (; b < inner; b++) {
        acc += <f64>load<f32>(p);
        p += 4;
      }
    }
    const sum = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    acc += f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
    store<f32>(y + (<usize>k << 2), <f32>acc);
  }
}

/**
 * out[i] = w0 x0[i] + w1 x1[i] + w2 x2[i] for i in [start, end), with the first `terms` (1 to 3)
 * terms, summed left to right in float32: an optimizer's update in one pass over memory.
 */
export function weightedSum(
  terms: i32, x0: usize, w0: f32, x1: usize, w1: f32, x2: usize, w2: f32, out: usize, start: i32, end: i32,
): void {
  const v0 = f32x4.splat(w0), v1 = f32x4.splat(w1), v2 = f32x4.splat(w2);
  let i = start;
  if (terms == 3) {
    for (; i + 4 <= end; i += 4) {
      const at = <usize>i << 2;
      const s = f32x4.add(f32x4.mul(v128.load(x0 + at), v0), f32x4.mul(v128.load(x1 + at), v1));
      v128.store(out + at, f32x4.add(s, f32x4.mul(v128.load(x2 + at), v2)));
    }
  } else if (terms == 2) {
    for (; i + 4 <= end; i += 4) {
      const at = <usize>i << 2;
      v128.store(out + at, f32x4.add(f32x4.mul(v128.load(x0 + at), v0), f32x4.mul(v128.load(x1 + at), v1)));
    }
  } else {
    for (; i + 4 <= end; i += 4) {
      const at = <usize>i << 2;
      v128.store(out + at, f32x4.mul(v128.load(x0 + at), v0));
    }
  }
  for (; i < end; i++) {
    const at = <usize>i << 2;
    let s: f32 = load<f32>(x0 + at) * w0;
    if (terms > 1) s += load<f32>(x1 + at) * w1;
    if (terms > 2) s += load<f32>(x2 + at) * w2;
    store<f32>(out + at, s);
  }
}

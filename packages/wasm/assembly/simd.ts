// Small SIMD helpers shared by the kernels (inlined where they are called; not exported by the
// module).

// Stores the 4x4 transpose of the rows r0..r3: column c (r0[c], r1[c], r2[c], r3[c]) at dst + c * step.
// @ts-ignore: decorator
@inline
export function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// The fused convolutions' epilogue (FusedConv2d), on an output plane just written and still in
// cache: x[0..count) += b, then, when `relu`, values below 0 become 0 (NaN stays NaN, as
// `rectify`).
// @ts-ignore: decorator
@inline
export function biasActivate(x: usize, count: i32, b: f32, relu: bool): void {
  const bv = f32x4.splat(b);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = x + (<usize>i << 2);
    const v = f32x4.add(v128.load(at), bv);
    v128.store(at, relu ? v128.bitselect(zero, v, f32x4.lt(v, zero)) : v);
  }
  for (; i < count; i++) {
    const at = x + (<usize>i << 2);
    const v = load<f32>(at) + b;
    store<f32>(at, relu && v < 0 ? 0 : v);
  }
}

// What the epilogue does for output channel c: flags bit 0 adds bias[c], bit 1 applies ReLU;
// 0 leaves the plane as it is (the data gradient and the plain convolution).
// @ts-ignore: decorator
@inline
export function epilogue(x: usize, count: i32, bias: usize, c: i32, flags: i32): void {
  if (flags != 0) biasActivate(x, count, flags & 1 ? load<f32>(bias + (<usize>c << 2)) : 0, (flags & 2) != 0);
}

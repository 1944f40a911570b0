import type { KernelConfig } from '@gpunet/tensor';
import { asWasm } from './common.js';
import { gemm } from './gemm.js';

/** [B, M, K] x [B, K, N] (either side transposed by strides) with the SIMD GEMM. */
export const batchMatMulKernel: KernelConfig<'BatchMatMul'> = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [a, b], attrs: { transposeA, transposeB }, backend }) => {
    const wasm = asWasm(backend);
    const [batch, ra, ca] = a.shape;
    const [, rb, cb] = b.shape;
    const m = transposeA ? ca : ra;
    const k = transposeA ? ra : ca;
    const n = transposeB ? rb : cb;
    const out = wasm.allocate([batch, m, n]);
    const [aOffset, bOffset, cOffset] = [
      wasm.offset(a.dataId),
      wasm.offset(b.dataId),
      wasm.offset(out.dataId),
    ];
    for (let t = 0; t < batch; t++) {
      gemm(
        wasm,
        m,
        n,
        k,
        { offset: aOffset + t * ra * ca * 4, row: transposeA ? 1 : ca, col: transposeA ? ca : 1 },
        { offset: bOffset + t * rb * cb * 4, row: transposeB ? 1 : cb, col: transposeB ? cb : 1 },
        cOffset + t * m * n * 4,
        n,
        false,
      );
    }
    return out;
  },
};

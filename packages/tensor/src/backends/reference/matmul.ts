import type { KernelConfig } from '../../backend.js';
import { asReference } from './backend.js';

export const batchMatMulKernel: KernelConfig<'BatchMatMul'> = {
  kernelName: 'BatchMatMul',
  backendName: 'reference',
  kernelFunc: ({ inputs: [a, b], attrs: { transposeA, transposeB }, backend }) => {
    const ref = asReference(backend);
    const av = ref.values(a.dataId);
    const bv = ref.values(b.dataId);
    const [batch, ra, ca] = a.shape;
    const [, rb, cb] = b.shape;
    const m = transposeA ? ca : ra;
    const k = transposeA ? ra : ca;
    const n = transposeB ? rb : cb;
    // Element (i, p) of op(A) is av[aBase + i * aRow + p * aCol], reading the stored layout.
    const [aRow, aCol] = transposeA ? [1, ca] : [ca, 1];
    const [bRow, bCol] = transposeB ? [1, cb] : [cb, 1];
    const out = new Float32Array(batch * m * n);
    for (let t = 0; t < batch; t++) {
      const aBase = t * ra * ca;
      const bBase = t * rb * cb;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            acc += av[aBase + i * aRow + p * aCol] * bv[bBase + p * bRow + j * bCol];
          }
          out[(t * m + i) * n + j] = acc;
        }
      }
    }
    return ref.output(out, [batch, m, n]);
  },
};

import type { KernelAttrs, TensorInfo } from '@gpunet/tensor';
import { asGpu, type GpuJsBackend, WEBASM_MAX_ELEMENTS } from '../backend.js';
import type { GpuKernel } from './types.js';

/**
 * On webasm, a right operand or an output above the float32 indexing limit (fc6's weight and its
 * gradient) is multiplied in column blocks: each block of columns of op(B) is copied out on the host, multiplied, and its
 * columns are copied into place.
 */
function blockedMatMul(
  gpu: GpuJsBackend,
  a: TensorInfo,
  b: TensorInfo,
  attrs: KernelAttrs['BatchMatMul'],
): TensorInfo {
  const [batch, rb, cb] = b.shape;
  const n = attrs.transposeB ? rb : cb;
  const k = attrs.transposeB ? cb : rb;
  const m = attrs.transposeA ? a.shape[2] : a.shape[1];
  // Each block keeps both its slice of B and its slice of the output under the limit.
  const block = Math.max(1, Math.floor(WEBASM_MAX_ELEMENTS / (batch * Math.max(k, m))));
  const out = new Float32Array(batch * m * n);
  const bValues = gpu.values(b.dataId);
  for (let j0 = 0; j0 < n; j0 += block) {
    const width = Math.min(block, n - j0);
    // op(B)[:, j0:j0+width], stored as [batch, width, k] (transposed layout) so each column is contiguous.
    const part = new Float32Array(batch * width * k);
    for (let t = 0; t < batch; t++) {
      for (let j = 0; j < width; j++) {
        for (let p = 0; p < k; p++) {
          part[(t * width + j) * k + p] = attrs.transposeB
            ? bValues[(t * rb + j0 + j) * cb + p]
            : bValues[(t * rb + p) * cb + j0 + j];
        }
      }
    }
    const partInfo = gpu.adopt(part, [batch, width, k]);
    const y = multiply(gpu, a, partInfo, attrs.transposeA, true);
    const yValues = gpu.values(y.dataId);
    for (let t = 0; t < batch; t++) {
      for (let i = 0; i < m; i++) {
        out.set(
          yValues.subarray((t * m + i) * width, (t * m + i + 1) * width),
          (t * m + i) * n + j0,
        );
      }
    }
    gpu.disposeData(partInfo.dataId);
    gpu.disposeData(y.dataId);
  }
  return gpu.adopt(out, [batch, m, n]);
}

export const batchMatMulKernel: GpuKernel<'BatchMatMul'> = {
  kernelName: 'BatchMatMul',
  kernelFunc: ({ inputs: [a, b], attrs, backend }) => {
    const gpu = asGpu(backend);
    const [batch, rb, cb] = b.shape;
    const m = attrs.transposeA ? a.shape[2] : a.shape[1];
    const n = attrs.transposeB ? rb : cb;
    if (
      gpu.name === 'webasm' &&
      (batch * rb * cb > WEBASM_MAX_ELEMENTS || batch * m * n > WEBASM_MAX_ELEMENTS)
    ) {
      return blockedMatMul(gpu, a, b, attrs);
    }
    return multiply(gpu, a, b, attrs.transposeA, attrs.transposeB);
  },
};

function multiply(
  gpu: GpuJsBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  {
    const [batch, ra, ca] = a.shape;
    const [, rb, cb] = b.shape;
    const m = transposeA ? ca : ra;
    const k = transposeA ? ra : ca;
    const n = transposeB ? rb : cb;
    return gpu.run({
      name: 'BatchMatMul',
      params: ['left', 'right'],
      body: [
        'const j = this.thread.x % this.constants.n;',
        'const i = Math.floor(this.thread.x / this.constants.n) % this.constants.m;',
        'const t = Math.floor(this.thread.x / (this.constants.n * this.constants.m));',
        'const aBase = t * this.constants.aSize + i * this.constants.aRow;',
        'const bBase = t * this.constants.bSize + j * this.constants.bCol;',
        'let acc = 0;',
        'for (let p = 0; p < this.constants.k; p++) {',
        '  acc += left[aBase + p * this.constants.aCol] * right[bBase + p * this.constants.bRow];',
        '}',
        'return acc;',
      ].join('\n'),
      constants: {
        m,
        n,
        k,
        aSize: ra * ca,
        bSize: rb * cb,
        aRow: transposeA ? 1 : ca,
        aCol: transposeA ? ca : 1,
        bRow: transposeB ? 1 : cb,
        bCol: transposeB ? cb : 1,
      },
      inputs: [a, b],
      shape: [batch, m, n],
    });
  }
}

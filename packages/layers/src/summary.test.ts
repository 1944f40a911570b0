import { describe, expect, it } from 'vitest';
import { formatSummary } from './summary.js';

describe('formatSummary', () => {
  it('lays out a Keras-like table: padded columns, right-aligned counts with separators, totals', () => {
    const text = formatSummary({
      inputShape: [1, 3, 8, 8],
      rows: [
        { name: 'features.0', type: 'Conv2d', outputShape: [1, 16, 8, 8], params: 448 },
        { name: 'flatten', type: 'Flatten', outputShape: [1, 1024], params: 0 },
        { name: 'classifier.0', type: 'Linear', outputShape: [1, 1000], params: 1_025_000 },
      ],
      totalParams: 1_025_448,
      trainableParams: 1_025_000,
    });
    expect(text.split('\n')).toEqual([
      'Input: [1, 3, 8, 8]',
      '='.repeat(49),
      'Layer (type)            Output Shape      Param #',
      '='.repeat(49),
      'features.0 (Conv2d)     [1, 16, 8, 8]         448',
      'flatten (Flatten)       [1, 1024]               0',
      'classifier.0 (Linear)   [1, 1000]       1,025,000',
      '='.repeat(49),
      'Total params: 1,025,448',
      'Trainable params: 1,025,000',
      'Non-trainable params: 448',
    ]);
  });
});

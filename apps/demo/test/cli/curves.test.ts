import { describe, expect, it } from 'vitest';
import { curvesSvg } from '../../src/draw.js';

const epoch = (n: number, valTop5?: number) => ({
  epoch: n,
  trainLoss: 1 / n,
  trainAccuracy: 0.5,
  valTop1: 0.6,
  ...(valTop5 === undefined ? {} : { valTop5 }),
  valLoss: 0.9,
  lr: 0.01,
});

describe('curves', () => {
  it('draw validation top-5 only when the history has it (more than 5 classes)', () => {
    const few = curvesSvg({ history: [epoch(1), epoch(2)] });
    expect(few).toContain('validation top-1');
    expect(few).not.toContain('top-5');
    expect(few.match(/<circle /g)?.length).toBe(2 * 2 + 2 * 2);
    const many = curvesSvg({ history: [epoch(1, 0.8), epoch(2, 0.9)] });
    expect(many).toContain('validation top-5');
    // A dot per epoch on 2 loss lines and 3 accuracy lines (2 without top-5).
    expect(many.match(/<circle /g)?.length).toBe(2 * 2 + 2 * 3);
  });
});

import { type AlexNetOptions, alexnet } from '@gpunet/alexnet';
import { describe, expect, it } from 'vitest';
import {
  inferSpec,
  METADATA_KEY,
  type RawTensor,
  type RawWeights,
  SpecError,
  storedConfig,
} from './spec.js';

/** The state dict of a real `alexnet(options)` as the weights worker would hand it over. */
function weightsOf(options: AlexNetOptions, metadata: Record<string, string> = {}): RawWeights {
  const model = alexnet({ ...options, init: 'pytorch' });
  const tensors = new Map<string, RawTensor>();
  for (const [key, t] of model.stateDict()) {
    tensors.set(key, { shape: [...t.shape], data: new Float32Array(t.size) });
  }
  for (const p of model.parameters()) p.dispose();
  return { name: 'model.pth', bytes: 1000, tensors, metadata };
}

describe('inferSpec reads the variant and sizes from the tensors’ shapes', () => {
  it('the paper model: 227 px RGB, 1000 ImageNet classes with ImageNet preprocessing', () => {
    const spec = inferSpec(weightsOf({ variant: 'paper' }));
    expect(spec.model).toEqual({
      variant: 'paper',
      numClasses: 1000,
      inputSize: 227,
      inChannels: 3,
      channels: [96, 256, 384, 384, 256],
      hidden: 4096,
    });
    expect(spec.classes[0]).toBe('tench, Tinca tinca');
    expect(spec.mean).toEqual([0.485, 0.456, 0.406]);
    expect(spec.augment).toBe(true);
  });

  it('torchvision at reduced widths (the layout of fixtures/torchvision_small.pth), 10 classes', () => {
    const spec = inferSpec(
      weightsOf({
        variant: 'torchvision',
        channels: [16, 48, 96, 64, 64],
        hidden: 128,
        numClasses: 10,
      }),
    );
    expect(spec.model).toEqual({
      variant: 'torchvision',
      numClasses: 10,
      inputSize: 224,
      inChannels: 3,
      channels: [16, 48, 96, 64, 64],
      hidden: 128,
    });
    expect(spec.classes).toEqual(Array.from({ length: 10 }, (_, i) => `class ${i}`));
  });

  it.each([
    [28, 1, 10],
    [32, 3, 4],
    [64, 3, 7],
    [48, 3, 2],
  ])('a mini at %i px with %i channels and %i classes', (inputSize, inChannels, numClasses) => {
    const spec = inferSpec(weightsOf({ variant: 'mini', inputSize, inChannels, numClasses }));
    expect(spec.model.variant).toBe('mini');
    expect(spec.model.inputSize).toBe(inputSize);
    expect(spec.model.inChannels).toBe(inChannels);
    expect(spec.model.numClasses).toBe(numClasses);
    expect(spec.mean).toHaveLength(inChannels);
    expect(spec.augment).toBe(false);
  });

  it('a mini at an unusual size gets the smallest size with the same pool5 (40 -> 39)', () => {
    // 40 and 39 both give pool5 4x4: the classifier cannot tell them apart.
    expect(inferSpec(weightsOf({ variant: 'mini', inputSize: 40 })).model.inputSize).toBe(39);
  });

  it('the CLI’s metadata wins over the defaults: class names, normalization, input size', () => {
    const config = {
      model: { variant: 'mini', numClasses: 3, inputSize: 40, inChannels: 3 },
      classes: ['cat', 'dog', 'cow'],
      mean: [0.1, 0.2, 0.3],
      std: [0.4, 0.5, 0.6],
      augment: true,
    };
    const weights = weightsOf(
      { variant: 'mini', inputSize: 40, numClasses: 3 },
      {
        [METADATA_KEY]: JSON.stringify(config),
      },
    );
    const spec = inferSpec(weights);
    expect(spec.model.inputSize).toBe(40);
    expect(spec.classes).toEqual(['cat', 'dog', 'cow']);
    expect(spec.mean).toEqual([0.1, 0.2, 0.3]);
    expect(JSON.parse(storedConfig(spec))).toEqual(config);
  });

  it('a file that is no AlexNet gets one sentence naming it and what was expected', () => {
    const weights: RawWeights = {
      name: 'resnet.safetensors',
      bytes: 2_500_000,
      tensors: new Map([['conv1.weight', { shape: [64, 3, 7, 7], data: new Float32Array(1) }]]),
      metadata: {},
    };
    expect(() => inferSpec(weights)).toThrow(SpecError);
    expect(() => inferSpec(weights)).toThrow(
      /^resnet\.safetensors \(2\.5 MB, 1 tensors\) is not an AlexNet state dict: expected a conv1 weight 'features\.0\.weight'.*found conv1\.weight$/,
    );
  });

  it('a conv1 of another size is named with the sizes AlexNet has', () => {
    const weights = weightsOf({ variant: 'mini' });
    weights.tensors.set('features.0.weight', { shape: [16, 3, 7, 7], data: new Float32Array(1) });
    expect(() => inferSpec(weights)).toThrow(
      /\[16, 3, 7, 7\], but the paper's AlexNet has 11x11 and gpunet's mini 5x5 filters/,
    );
  });
});

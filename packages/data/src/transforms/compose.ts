import type { Generator } from '@gpunet/tensor';
import type { Image } from '../image.js';
import type { Transform } from '../transform.js';

/**
 * Chains transforms left to right (torchvision `Compose`). After a transform that returns
 * several images (`tenCrop`), the rest of the chain runs on each of them.
 */
export function compose(transforms: readonly Transform[]): Transform {
  const steps = [...transforms];
  return {
    name: 'compose',
    options: { transforms: steps.map((t) => ({ name: t.name, options: t.options })) },
    apply(image: Image, random: Generator): Image | Image[] {
      let current: Image | Image[] = image;
      for (const step of steps) {
        current = Array.isArray(current)
          ? current.flatMap((im) => step.apply(im, random))
          : step.apply(current, random);
      }
      return current;
    },
  };
}

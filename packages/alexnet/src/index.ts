/**
 * @gpunet/alexnet: AlexNet (Krizhevsky, Sutskever, Hinton 2012) in the paper's two-tower form,
 * torchvision's single-tower form and a CPU-sized mini, with the paper's init and recipe,
 * training with checkpoints and exact resume, centre-crop and 10-crop evaluation, and prediction.
 */
export {
  AlexNet,
  type AlexNetLayerName,
  type AlexNetOptions,
  type AlexNetVariant,
  alexnet,
  outputSize,
  paperInit,
  type ResolvedAlexNetOptions,
  resolveAlexNetOptions,
} from './alexnet.js';
export { type PaperOptimizerOptions, paperOptimizer } from './recipe.js';

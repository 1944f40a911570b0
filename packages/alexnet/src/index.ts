/**
 * @gpunet/alexnet: AlexNet (Krizhevsky, Sutskever, Hinton 2012) in the paper's two-tower form,
 * torchvision's single-tower form and a CPU-sized mini, with the paper's init and recipe,
 * training with checkpoints and exact resume, centre-crop and 10-crop evaluation, and prediction.
 */
export {
  AlexNet,
  type AlexNetLayerName,
  type AlexNetLrnOptions,
  type AlexNetOptions,
  type AlexNetVariant,
  alexnet,
  kaimingInit,
  outputSize,
  paperInit,
  type ResolvedAlexNetOptions,
  resolveAlexNetOptions,
} from './alexnet.js';
export {
  CheckpointError,
  decodeCheckpoint,
  disposeCheckpoint,
  type EpochSummary,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from './checkpoint.js';
export {
  type Batch,
  type BatchSource,
  type ClassAccuracy,
  cropAveragedProbabilities,
  type EvaluateOptions,
  type EvaluationResult,
  evaluate,
  flipHorizontal,
  topKCounts,
} from './evaluate.js';
export { freeze, headPath, type LoadPretrainedResult, loadPretrained } from './finetune.js';
export { IMAGENET_CLASSES } from './imagenet-classes.js';
export {
  activationPath,
  featureMaps,
  features,
  type LayerTiming,
  type LayerTimingsOptions,
  layerTimings,
} from './inspect.js';
export {
  checkTrainingMemory,
  largestTrainingBatch,
  TrainingMemoryError,
  type TrainingMemoryEstimate,
  trainingMemory,
} from './memory.js';
export {
  ALEXNET_ONNX_METADATA_KEY,
  alexnetFromOnnx,
  alexnetOptionsFromOnnx,
  type ExportAlexNetOnnxOptions,
  exportAlexNetOnnx,
} from './onnx.js';
export {
  conv1FilterPicture,
  filterTiles,
  type GridOptions,
  mapTiles,
  type Pixels,
  type Tile,
  tileGrid,
} from './pictures.js';
export { type Prediction, type PredictOptions, predict } from './predict.js';
export { type PaperOptimizerOptions, paperOptimizer } from './recipe.js';
export {
  SYNTHETIC_BAR_CLASSES,
  type SyntheticBarsOptions,
  syntheticBars,
} from './synthetic.js';
export {
  type BatchEventDetail,
  type EpochEventDetail,
  NonFiniteLossError,
  Trainer,
  type TrainerOptions,
  train,
} from './trainer.js';

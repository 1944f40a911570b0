/**
 * @gpunet/data for Node: datasets (ImageFolder, MNIST IDX, CIFAR-10, synthetic), a DataLoader
 * that decodes with sharp and augments on worker threads, and AlexNet's transforms.
 */
export * from './common.js';
export { Cifar10, type Cifar10FilesOptions } from './node/cifar10.js';
export { DataLoader } from './node/data-loader.js';
export { decodeImage } from './node/decode.js';
export { IMAGE_EXTENSIONS, ImageFolder, type ImageFolderOptions } from './node/image-folder.js';
export { Mnist, type MnistOptions, readIdxFile } from './node/mnist.js';
export { type WriteImageFolderOptions, writeImageFolder } from './node/write-image-folder.js';

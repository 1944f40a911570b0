/**
 * Reads a weights file off the page's main thread: streams it in (reporting progress), parses
 * it as a PyTorch .pth (zip or legacy), a .safetensors or an .onnx, and hands the tensors' host
 * values back by transfer, so a 233 MB torchvision checkpoint never freezes the page. An ONNX
 * graph is mapped onto an AlexNet here (`alexnetFromOnnx`), whose state dict is what comes back.
 */
import { alexnetFromOnnx } from '@gpunet/alexnet';
import { readOnnx, readPth, readSafetensors, type StateDict } from '@gpunet/layers';
import type { RawTensor, RawWeights } from './spec.js';

/** What the page sends: a file, or bytes it already has (the bundled model). */
export type WeightsRequest = { name: string; file: Blob } | { name: string; bytes: Uint8Array };

/** What the worker answers. */
export type WeightsReply =
  | { kind: 'progress'; loaded: number; total: number; phase: 'reading' | 'parsing' }
  | {
      kind: 'done';
      bytes: number;
      tensors: [string, RawTensor][];
      metadata: Record<string, string>;
      graph?: RawWeights['graph'];
    }
  | { kind: 'error'; message: string };

const post = (reply: WeightsReply, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(reply, transfer);

async function readAll(file: Blob): Promise<Uint8Array> {
  const bytes = new Uint8Array(file.size);
  const reader = file.stream().getReader();
  let loaded = 0;
  let reported = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes.set(value, loaded);
    loaded += value.byteLength;
    if (loaded - reported > 4e6 || loaded === file.size) {
      reported = loaded;
      post({ kind: 'progress', loaded, total: file.size, phase: 'reading' });
    }
  }
  return bytes;
}

/** What the bytes look like: the format the reader is chosen by, named in errors. */
export function formatOf(
  name: string,
  bytes: Uint8Array,
): 'onnx' | 'pth-zip' | 'pth-legacy' | 'safetensors' {
  if (/\.onnx$/i.test(name)) return 'onnx'; // protobuf has no magic number: the name says
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'pth-zip'; // 'PK': PyTorch 1.6+ zip
  if (bytes[0] === 0x80) return 'pth-legacy'; // a pickle protocol marker
  return 'safetensors';
}

const FORMAT_NAMES = {
  onnx: 'an ONNX AlexNet',
  'pth-zip': 'a PyTorch .pth (zip)',
  'pth-legacy': 'a legacy PyTorch .pth',
  safetensors: 'a .safetensors file',
};

self.onmessage = async (event: MessageEvent<WeightsRequest>) => {
  const request = event.data;
  let bytes: Uint8Array | null = null;
  try {
    bytes = 'file' in request ? await readAll(request.file) : request.bytes;
    post({ kind: 'progress', loaded: bytes.byteLength, total: bytes.byteLength, phase: 'parsing' });
    const format = formatOf(request.name, bytes);
    let file: { tensors: StateDict; metadata: Record<string, string> };
    let graph: RawWeights['graph'];
    try {
      if (format === 'onnx') {
        const onnx = readOnnx(bytes);
        const model = alexnetFromOnnx(onnx);
        const { inputSize, lrn, ceilMode } = model.options;
        graph = { inputSize, lrn, ceilMode };
        file = { tensors: model.stateDict(), metadata: onnx.metadata };
      } else file = format === 'safetensors' ? readSafetensors(bytes) : readPth(bytes);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(
        `${request.name} (${bytes.byteLength} bytes) cannot be read as ${FORMAT_NAMES[format]}: ${detail.replace(/^(pth|safetensors|onnx): /, '')}`,
      );
    }
    const tensors: [string, RawTensor][] = [];
    const buffers = new Set<ArrayBuffer>();
    for (const [key, t] of file.tensors) {
      const shape = [...t.shape];
      const data = (await t.data()) as Float32Array | Int32Array;
      t.dispose();
      tensors.push([key, { shape, data }]);
      buffers.add(data.buffer as ArrayBuffer);
    }
    post({ kind: 'done', bytes: bytes.byteLength, tensors, metadata: file.metadata, graph }, [
      ...buffers,
    ]);
  } catch (error) {
    post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};

/**
 * The web demo page: a digit model trained on real MNIST digits, any AlexNet weights dropped on
 * the page (paper, torchvision, mini; .pth, .safetensors or .onnx), classification of samples, drawings,
 * files and camera frames, what happens inside (conv1 filters, feature maps, per-layer times),
 * training on the user's own pictures, and every backend this browser runs, compared.
 * `?backend=<name>` preselects a backend.
 */
import '@gpunet/kernels';
import '@gpunet/wasm';
import {
  type AlexNet,
  conv1FilterPicture,
  exportAlexNetOnnx,
  mapTiles,
  tileGrid,
} from '@gpunet/alexnet';
import type { Image } from '@gpunet/data';
import { noGrad, setBackend, tensor } from '@gpunet/tensor';
import { type BackendChoice, probeBackends } from './backends.js';
import { canvasImage, decode, drawInput, mnistFromPad, putPixels, toInput } from './image.js';
import {
  buildModel,
  type Classification,
  classify,
  message,
  parameterCount,
  timeForward,
} from './model.js';
import {
  describeBytes,
  describeSpec,
  inferSpec,
  METADATA_KEY,
  type ModelSpec,
  type RawTensor,
  type RawWeights,
} from './spec.js';
import { type Example, type TrainResult, trainInPage } from './train.js';
import type { WeightsReply, WeightsRequest } from './weights-worker.js';

const BUNDLED = 'mnist-mini.safetensors';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html has no #${id}`);
  return found as T;
}

/** One bundled test digit. */
interface Sample {
  file: string;
  label: number;
}

const state: {
  backend: string;
  choices: BackendChoice[];
  weights: RawWeights | null;
  spec: ModelSpec | null;
  model: AlexNet | null;
  isBundled: boolean;
  bundled: { weights: RawWeights; spec: ModelSpec } | null;
  image: Image | null;
  result: Classification | null;
  samples: { sample: Sample; image: Image }[];
  trained: TrainResult | null;
  trainedSpec: ModelSpec | null;
} = {
  backend: 'reference',
  choices: [],
  weights: null,
  spec: null,
  model: null,
  isBundled: false,
  bundled: null,
  image: null,
  result: null,
  samples: [],
  trained: null,
  trainedSpec: null,
};

function setStatus(text: string, kind: 'loading' | 'busy' | 'ready' | 'error'): void {
  const status = element('status');
  status.textContent = text;
  status.dataset.state = kind;
  const error = element('error');
  error.textContent = kind === 'error' ? text : '';
  error.hidden = kind !== 'error';
}

// Every action runs after the previous one: backend, weights and image changes never interleave.
let queue: Promise<void> = Promise.resolve();
function enqueue(what: string, action: () => Promise<void>): Promise<void> {
  queue = queue.then(async () => {
    setStatus(`${what}…`, 'busy');
    try {
      await action();
      setStatus(`${state.weights?.name ?? ''} on ${state.backend}: ready`, 'ready');
    } catch (error) {
      // The page says what went wrong in one sentence; the console stays clean for real faults.
      setStatus(message(error), 'error');
    }
  });
  return queue;
}

/** Reads a weights file in a worker, with a progress bar; resolves with its host tensors. */
function readWeights(request: WeightsRequest, size: number): Promise<RawWeights> {
  const progress = element<HTMLProgressElement>('load-progress');
  const label = element('load-label');
  progress.hidden = false;
  label.hidden = false;
  progress.max = Math.max(size, 1);
  progress.value = 0;
  const worker = new Worker(new URL('./weights-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<RawWeights>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WeightsReply>) => {
      const reply = event.data;
      if (reply.kind === 'progress') {
        progress.value = reply.loaded;
        label.textContent =
          reply.phase === 'reading'
            ? `reading ${request.name}: ${describeBytes(reply.loaded)} of ${describeBytes(reply.total)}`
            : `parsing ${request.name} (${describeBytes(reply.total)})`;
        return;
      }
      worker.terminate();
      progress.hidden = true;
      label.hidden = true;
      if (reply.kind === 'error') reject(new Error(reply.message));
      else {
        resolve({
          name: request.name,
          bytes: reply.bytes,
          tensors: new Map<string, RawTensor>(reply.tensors),
          metadata: reply.metadata,
          ...(reply.graph ? { graph: reply.graph } : {}),
        });
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      progress.hidden = true;
      label.hidden = true;
      reject(new Error(`${request.name}: the weights reader failed (${event.message})`));
    };
    worker.postMessage(request);
  });
}

/** Makes the weights the page's model: infers what they are, builds it, redraws. */
async function useWeights(
  weights: RawWeights,
  spec: ModelSpec = inferSpec(weights),
): Promise<void> {
  const model = buildModel(spec, weights); // throws, keeping the current model, if they do not fit
  if (state.model) for (const p of state.model.parameters()) p.dispose();
  state.model = model;
  state.weights = weights;
  state.spec = spec;
  state.isBundled = weights.name === BUNDLED;
  element('weights-name').textContent = `${weights.name} (${describeBytes(weights.bytes)})`;
  element('weights-what').textContent = describeSpec(spec, parameterCount(model));
  element('draw-panel').hidden = !(spec.model.inChannels === 1 && spec.model.inputSize === 28);
  await drawFilters();
  await scoreSamples();
  if (state.image) await runClassification();
  else clearResult();
}

/** Rebuilds the model on the current backend from the current weights. */
async function rebuild(): Promise<void> {
  if (state.weights && state.spec) await useWeights(state.weights, state.spec);
}

async function drawFilters(): Promise<void> {
  if (!state.model) return;
  const weight = state.model.stateDict().get(`${state.model.layerPaths.conv1}.weight`);
  const [count, inChannels, k] = weight?.shape ?? [];
  // The CLI's picture: one function draws conv1's filters for both (colour tiles for RGB input).
  putPixels(
    element<HTMLCanvasElement>('filters'),
    await conv1FilterPicture(state.model, { scale: k >= 11 ? 4 : 6 }),
  );
  const figure3 = state.spec?.model.variant !== 'mini' ? ' (the paper’s Figure 3)' : '';
  element('filters-caption').textContent =
    `conv1: ${count} filters of ${k}×${k}×${inChannels}${figure3}, each scaled to its own range`;
}

/** The bundled digits' accuracy under the bundled model (only it was trained for them). */
async function scoreSamples(): Promise<void> {
  const line = element('sample-accuracy');
  const model = state.model;
  const spec = state.spec;
  if (!state.isBundled || !model || !spec || state.samples.length === 0) {
    line.textContent = '';
    delete line.dataset.correct;
    for (const button of document.querySelectorAll<HTMLElement>('.sample'))
      delete button.dataset.verdict;
    return;
  }
  // One batched forward pass over every sample: one readback, fast on every backend.
  const logits = await logitsOf(
    model,
    state.samples.map(({ image }) => toInput(image, spec)),
  );
  const numClasses = spec.model.numClasses;
  let correct = 0;
  const buttons = document.querySelectorAll<HTMLElement>('.sample');
  for (const [i, { sample }] of state.samples.entries()) {
    const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
    const predicted = row.indexOf(Math.max(...row));
    const isRight = predicted === sample.label;
    if (isRight) correct++;
    const button = buttons[i];
    if (button) {
      button.dataset.verdict = isRight ? 'right' : 'wrong';
      button.title = `digit ${sample.label}: the model says ${spec.classes[predicted]}`;
    }
  }
  const total = state.samples.length;
  line.dataset.correct = String(correct);
  line.dataset.total = String(total);
  line.textContent = `Accuracy on the ${total} bundled test digits (never seen in training): ${correct}/${total} = ${((100 * correct) / total).toFixed(1)}%`;
}

/** The logits `[N, classes]` of a batch of inputs, in one forward pass. */
async function logitsOf(model: AlexNet, inputs: Float32Array[]): Promise<Float32Array> {
  const { inChannels, inputSize } = model.options;
  const batch = new Float32Array(inputs.length * inChannels * inputSize * inputSize);
  for (const [i, input] of inputs.entries()) batch.set(input, i * input.length);
  const x = tensor(batch, [inputs.length, inChannels, inputSize, inputSize]);
  const y = noGrad(() => model.forward(x));
  try {
    return Float32Array.from((await y.data()) as Float32Array);
  } finally {
    x.dispose();
    y.dispose();
  }
}

async function runClassification(): Promise<void> {
  if (!state.model || !state.image || !state.spec) return;
  const input = toInput(state.image, state.spec);
  drawInput(element('preview'), input, state.spec);
  element('preview-caption').textContent =
    `what the model sees: ${state.spec.model.inputSize}×${state.spec.model.inputSize} ${state.spec.model.inChannels === 1 ? 'grey' : 'RGB'}`;
  state.result = await classify(state.model, input);
  showResult(state.result, state.spec);
}

function clearResult(): void {
  element('bars').replaceChildren();
  element('timings').replaceChildren();
  element('result').dataset.state = 'empty';
}

function showResult(result: Classification, spec: ModelSpec): void {
  const ranked = [...result.probabilities]
    .map((probability, index) => ({ probability, index }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, 5);
  element('bars').replaceChildren(
    ...ranked.map(({ probability, index }) => {
      const row = document.createElement('li');
      row.className = 'bar';
      const label = spec.classes[index] ?? `class ${index}`;
      row.dataset.label = label;
      row.dataset.index = String(index);
      row.dataset.probability = String(probability);
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = label;
      const track = document.createElement('span');
      track.className = 'track';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${(probability * 100).toFixed(1)}%`;
      track.append(fill);
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = `${(probability * 100).toFixed(1)}%`;
      row.append(name, track, value);
      return row;
    }),
  );
  const table = element('timings');
  const total = result.layers.reduce((sum, t) => sum + t.ms, 0);
  const max = Math.max(...result.layers.map((t) => t.ms), 1e-6);
  const head = document.createElement('tr');
  for (const text of ['module', 'type', 'layer', 'output', 'time', '']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    head.append(th);
  }
  table.replaceChildren(
    head,
    ...result.layers.map((t) => {
      const row = document.createElement('tr');
      const cells = [t.path, t.type, t.label, `[${t.shape.join(', ')}]`, `${t.ms.toFixed(2)} ms`];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        row.append(td);
      }
      const bar = document.createElement('td');
      const fill = document.createElement('span');
      fill.className = 'time-bar';
      fill.style.width = `${((t.ms / max) * 100).toFixed(0)}%`;
      bar.append(fill);
      row.append(bar);
      return row;
    }),
  );
  const foot = document.createElement('tr');
  foot.innerHTML = `<th colspan="4">total</th><th>${total.toFixed(2)} ms</th><th></th>`;
  table.append(foot);
  renderLayerChoice(result);
  drawMaps();
  const box = element('result');
  box.dataset.state = 'done';
  box.dataset.backend = state.backend;
  box.dataset.logits = JSON.stringify([...result.logits]);
}

function renderLayerChoice(result: Classification): void {
  const select = element<HTMLSelectElement>('map-layer');
  const previous = select.value;
  const options = result.layers.filter((l) => l.data !== null);
  select.replaceChildren(
    ...options.map((l) => {
      const option = document.createElement('option');
      option.value = l.path;
      option.textContent = `${l.path} ${l.type}${l.label ? ` (${l.label})` : ''} [${l.shape.slice(1).join('×')}]`;
      return option;
    }),
  );
  const fallback = options.find((l) => l.label === 'conv1 ReLU') ?? options[0];
  select.value = options.some((l) => l.path === previous) ? previous : (fallback?.path ?? '');
}

function drawMaps(): void {
  const result = state.result;
  const path = element<HTMLSelectElement>('map-layer').value;
  const layer = result?.layers.find((l) => l.path === path);
  if (!layer?.data) return;
  const [, channels, height, width] = layer.shape;
  const count = Math.min(channels, 64);
  const maps = mapTiles(layer.data.subarray(0, count * height * width), [count, height, width]);
  putPixels(
    element<HTMLCanvasElement>('maps'),
    tileGrid(maps, { columns: Math.min(count, 16), scale: Math.max(1, Math.round(56 / width)) }),
  );
  element('maps-caption').textContent =
    `${layer.path} ${layer.type}${layer.label ? ` (${layer.label})` : ''}: ${count === channels ? `all ${channels}` : `the first ${count} of ${channels}`} maps of ${height}×${width}, each scaled to its own range`;
}

async function useImage(image: Image): Promise<void> {
  state.image = image;
  element('result').dataset.state = 'busy';
  await runClassification();
}

async function imageFromFile(file: Blob, name: string): Promise<Image> {
  return decode(new Uint8Array(await file.arrayBuffer()), name);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function isWeightsFile(file: File): boolean {
  return /\.(safetensors|pth|pt|bin|onnx)$/i.test(file.name);
}

function loadWeightsFile(file: File): void {
  enqueue(`loading ${file.name}`, async () => {
    await useWeights(await readWeights({ name: file.name, file }, file.size));
  });
}

async function loadBundled(): Promise<void> {
  if (!state.bundled) {
    const bytes = await fetchBytes(BUNDLED);
    const weights = await readWeights({ name: BUNDLED, bytes }, bytes.byteLength);
    state.bundled = { weights, spec: inferSpec(weights) };
  }
  await useWeights(state.bundled.weights, state.bundled.spec);
}

// ---- backends --------------------------------------------------------------------------------

function renderBackends(): void {
  const list = element('backends');
  list.replaceChildren(
    ...state.choices.map((choice) => {
      const label = document.createElement('label');
      label.className = choice.reason ? 'backend disabled' : 'backend';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'backend';
      input.value = choice.name;
      input.disabled = choice.reason !== '';
      input.checked = choice.name === state.backend;
      const name = document.createElement('strong');
      name.textContent = choice.label;
      const what = document.createElement('span');
      what.className = 'what';
      what.textContent = choice.reason ? `unavailable: ${choice.reason}` : choice.what;
      label.append(input, name, what);
      input.addEventListener('change', () => {
        enqueue(`starting ${choice.name}`, async () => {
          await setBackend(choice.name);
          state.backend = choice.name;
          await rebuild();
        });
      });
      return label;
    }),
  );
}

/** Times the loaded model on every backend this browser runs and draws the bars. */
async function compareBackends(): Promise<void> {
  const { weights, spec } = state;
  if (!weights || !spec) throw new Error('load a model first');
  const out = element('compare');
  out.replaceChildren();
  out.dataset.state = 'busy';
  const results: { name: string; ms: number }[] = [];
  try {
    for (const choice of state.choices.filter((c) => !c.reason)) {
      setStatus(`timing ${weights.name} on ${choice.name}…`, 'busy');
      await setBackend(choice.name);
      const model = buildModel(spec, weights);
      try {
        results.push({ name: choice.name, ms: await timeForward(model, 3) });
      } finally {
        for (const p of model.parameters()) p.dispose();
      }
      drawComparison(results, spec);
    }
  } finally {
    await setBackend(state.backend);
  }
  out.dataset.state = 'done';
  out.dataset.results = JSON.stringify(results);
}

function drawComparison(results: { name: string; ms: number }[], spec: ModelSpec): void {
  const fastest = Math.min(...results.map((r) => r.ms));
  element('compare').replaceChildren(
    ...results.map((r) => {
      const row = document.createElement('li');
      row.className = 'bar';
      row.dataset.backend = r.name;
      row.dataset.ms = String(r.ms);
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = r.name;
      const track = document.createElement('span');
      track.className = 'track';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${((100 * fastest) / r.ms).toFixed(1)}%`;
      track.append(fill);
      const value = document.createElement('span');
      value.className = 'value wide';
      value.textContent = `${r.ms.toFixed(1)} ms (${(1000 / r.ms).toFixed(1)} img/s)`;
      row.append(name, track, value);
      return row;
    }),
  );
  element('compare-caption').textContent =
    `One ${spec.model.inputSize}×${spec.model.inputSize} image through the loaded ${spec.model.variant} AlexNet, median of 3 runs after a warm-up; longer bars are faster.`;
}

// ---- inputs ----------------------------------------------------------------------------------

function wireClassify(): void {
  element<HTMLInputElement>('image-file').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file)
      enqueue(`classifying ${file.name}`, async () =>
        useImage(await imageFromFile(file, file.name)),
      );
  });
  element<HTMLInputElement>('weights-file').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) loadWeightsFile(file);
  });
  element('weights-bundled').addEventListener('click', () =>
    enqueue('loading the bundled digit model', loadBundled),
  );
  // Files can be dropped anywhere on the page.
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    if (isWeightsFile(file)) loadWeightsFile(file);
    else
      enqueue(`classifying ${file.name}`, async () =>
        useImage(await imageFromFile(file, file.name)),
      );
  });
  element('map-layer').addEventListener('change', drawMaps);
  element('compare-run').addEventListener('click', () =>
    enqueue('comparing backends', compareBackends),
  );
  wireDrawing();
  wireCamera('camera', 'camera-video', 'camera-capture', (canvas) =>
    enqueue('classifying the camera frame', () => useImage(canvasImage(canvas))),
  );
}

function wireDrawing(): void {
  const pad = element<HTMLCanvasElement>('pad');
  const context = pad.getContext('2d', { willReadFrequently: true });
  if (!context) return;
  const clear = () => {
    context.fillStyle = '#000';
    context.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let last: [number, number] | null = null;
  const at = (event: PointerEvent): [number, number] => {
    const box = pad.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * pad.width) / box.width,
      ((event.clientY - box.top) * pad.height) / box.height,
    ];
  };
  pad.addEventListener('pointerdown', (event) => {
    pad.setPointerCapture(event.pointerId);
    last = at(event);
  });
  pad.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = at(event);
    context.strokeStyle = '#fff';
    context.lineWidth = pad.width / 12;
    context.lineCap = 'round';
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
  });
  const finish = () => {
    if (!last) return;
    last = null;
    const digit = mnistFromPad(pad);
    if (digit) enqueue('classifying your drawing', () => useImage(canvasImage(digit)));
  };
  pad.addEventListener('pointerup', finish);
  pad.addEventListener('pointercancel', finish);
  element('pad-clear').addEventListener('click', clear);
}

/** A camera preview with a capture button; `onFrame` gets each captured frame. */
function wireCamera(
  startId: string,
  videoId: string,
  captureId: string,
  onFrame: (canvas: HTMLCanvasElement) => void,
): void {
  const start = element<HTMLButtonElement>(startId);
  const video = element<HTMLVideoElement>(videoId);
  const capture = element<HTMLButtonElement>(captureId);
  start.addEventListener('click', async () => {
    try {
      if (!navigator.mediaDevices?.getUserMedia) {
        throw new Error('this browser gives the page no camera (it needs HTTPS or localhost)');
      }
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      await video.play();
      video.hidden = false;
      capture.hidden = false;
    } catch (error) {
      setStatus(`The camera could not start: ${message(error)}`, 'error');
    }
  });
  capture.addEventListener('click', () => {
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')?.drawImage(video, 0, 0);
    onFrame(canvas);
  });
}

// ---- training --------------------------------------------------------------------------------

interface TrainClass {
  images: Image[];
  row: HTMLElement;
}
const trainClasses: TrainClass[] = [];

function addTrainClass(name: string): void {
  const list = element('classes');
  const index = trainClasses.length;
  const row = document.createElement('li');
  row.className = 'class';
  row.dataset.index = String(index);
  row.innerHTML = `
    <label>Class ${index + 1} name <input class="class-name" type="text" value="${name}" /></label>
    <label class="button">add pictures<input class="class-files visually-hidden" type="file" accept="image/*" multiple /></label>
    <button type="button" class="class-capture">add a camera frame</button>
    <span class="class-count" aria-live="polite">0 pictures</span>
    <span class="thumbs"></span>`;
  const entry: TrainClass = { images: [], row };
  trainClasses.push(entry);
  const count = row.querySelector<HTMLElement>('.class-count');
  const thumbs = row.querySelector<HTMLElement>('.thumbs');
  const add = (image: Image, preview: HTMLCanvasElement) => {
    entry.images.push(image);
    if (count)
      count.textContent = `${entry.images.length} picture${entry.images.length === 1 ? '' : 's'}`;
    row.dataset.count = String(entry.images.length);
    if (thumbs && thumbs.childElementCount < 12) {
      preview.className = 'thumb';
      thumbs.append(preview);
    }
  };
  row.querySelector<HTMLInputElement>('.class-files')?.addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    enqueue(`adding ${files.length} pictures`, async () => {
      for (const file of files) {
        const image = await imageFromFile(file, file.name);
        add(image, thumbnail(image));
      }
    });
  });
  row.querySelector('.class-capture')?.addEventListener('click', () => {
    const video = element<HTMLVideoElement>('train-video');
    if (video.hidden || video.videoWidth === 0) {
      element('train-camera').click();
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')?.drawImage(video, 0, 0);
    const image = canvasImage(canvas);
    add(image, thumbnail(image));
  });
  list.append(row);
}

function thumbnail(image: Image): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  if (context) {
    const pixels = context.createImageData(image.width, image.height);
    for (let p = 0; p < image.width * image.height; p++) {
      for (let c = 0; c < 3; c++)
        pixels.data[4 * p + c] = image.data[p * image.channels + (image.channels === 3 ? c : 0)];
      pixels.data[4 * p + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
  }
  return canvas;
}

/** The model the user's pictures train: the digit model's input (frozen features) or a colour mini. */
function trainingSpec(names: string[], isFrozen: boolean, examples: Image[]): ModelSpec {
  if (isFrozen) {
    const base = state.bundled?.spec;
    if (!base) throw new Error('the bundled digit model is not loaded yet');
    return {
      ...base,
      model: { ...base.model, numClasses: names.length },
      classes: names,
      from: 'the Train tab',
    };
  }
  // From scratch: 32x32 RGB, normalized by the pictures' own per-channel mean and deviation.
  const sums = [0, 0, 0];
  const squares = [0, 0, 0];
  let count = 0;
  for (const image of examples) {
    for (let p = 0; p < image.width * image.height; p++) {
      for (let c = 0; c < 3; c++) {
        const v = image.data[p * image.channels + (image.channels === 3 ? c : 0)] / 255;
        sums[c] += v;
        squares[c] += v * v;
      }
    }
    count += image.width * image.height;
  }
  const mean = sums.map((s) => s / count);
  const std = squares.map((s, c) => Math.sqrt(Math.max(s / count - mean[c] ** 2, 1e-4)));
  return {
    model: {
      variant: 'mini',
      numClasses: names.length,
      inputSize: 32,
      inChannels: 3,
      channels: [16, 32, 48, 48, 32],
      hidden: 128,
    },
    classes: names,
    mean,
    std,
    augment: false,
    from: 'the Train tab',
  };
}

function wireTraining(): void {
  addTrainClass('class A');
  addTrainClass('class B');
  element('class-add').addEventListener('click', () =>
    addTrainClass(`class ${String.fromCharCode(65 + trainClasses.length)}`),
  );
  wireCamera('train-camera', 'train-video', 'train-video-hint', () => {});
  const start = element<HTMLButtonElement>('train-start');
  const stop = element<HTMLButtonElement>('train-stop');
  const use = element<HTMLButtonElement>('train-use');
  const download = element<HTMLButtonElement>('train-download');
  const downloadOnnx = element<HTMLButtonElement>('train-download-onnx');
  const statusLine = element('train-status');
  let isStopped = false;
  start.addEventListener('click', () => {
    isStopped = false;
    enqueue(`training on ${state.backend}`, async () => {
      const filled = trainClasses.filter((c) => c.images.length > 0);
      const empty = trainClasses.filter((c) => c.images.length === 0).length;
      if (filled.length < 2) {
        throw new Error(
          `Training needs pictures in at least 2 classes; ${filled.length === 1 ? 'only 1 class has any' : 'no class has any'}${empty ? ` (${empty} empty)` : ''}`,
        );
      }
      const names = filled.map(
        (c, i) =>
          c.row.querySelector<HTMLInputElement>('.class-name')?.value.trim() || `class ${i}`,
      );
      const isFrozen = element<HTMLInputElement>('train-frozen').checked;
      const spec = trainingSpec(
        names,
        isFrozen,
        filled.flatMap((c) => c.images),
      );
      const examples: Example[] = filled.flatMap((c, label) =>
        c.images.map((image) => ({ values: toInput(image, spec), label })),
      );
      start.disabled = true;
      stop.disabled = false;
      try {
        state.trained = await trainInPage({
          spec,
          frozenFeatures: isFrozen ? (state.bundled?.weights ?? null) : null,
          examples,
          epochs: Number(element<HTMLInputElement>('train-epochs').value) || 20,
          batchSize: 16,
          lr: 1e-3,
          canvas: element('chart'),
          onStatus: (line) => {
            statusLine.textContent = line;
          },
          isStopped: () => isStopped,
        });
        state.trainedSpec = spec;
        const box = element('train-result');
        box.dataset.state = 'done';
        box.dataset.validation = String(state.trained.validationAccuracy ?? '');
        box.dataset.epochs = String(state.trained.epochs);
        use.disabled = false;
        download.disabled = false;
        downloadOnnx.disabled = false;
      } finally {
        start.disabled = false;
        stop.disabled = true;
      }
    });
  });
  stop.addEventListener('click', () => {
    isStopped = true;
  });
  use.addEventListener('click', () => {
    const { trained, trainedSpec } = state;
    if (trained && trainedSpec) {
      enqueue('loading the trained model', () => useWeights(trained.weights, trainedSpec));
    }
  });
  download.addEventListener('click', () => {
    if (state.trained) saveBytes(state.trained.file, 'gpunet-trained.safetensors');
  });
  downloadOnnx.addEventListener('click', () => {
    const { trained, trainedSpec } = state;
    if (!trained || !trainedSpec) return;
    enqueue('exporting the trained model as ONNX', async () => {
      const model = buildModel(trainedSpec, trained.weights);
      try {
        // The same metadata as the .safetensors: the CLI and the page read classes and
        // normalization back from it.
        const config = trained.weights.metadata[METADATA_KEY];
        const bytes = await exportAlexNetOnnx(model, {
          metadata: config === undefined ? {} : { [METADATA_KEY]: config },
        });
        saveBytes(bytes, 'gpunet-trained.onnx');
      } finally {
        for (const p of model.parameters()) p.dispose();
      }
    });
  });
}

/** Offers `bytes` as a download named `name`. */
function saveBytes(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function wireTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role=tab]')];
  const select = (tab: HTMLButtonElement) => {
    for (const other of tabs) {
      const isSelected = other === tab;
      other.setAttribute('aria-selected', String(isSelected));
      other.tabIndex = isSelected ? 0 : -1;
      element(`tab-${other.dataset.tab}`).hidden = !isSelected;
    }
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      select(next);
      next.focus();
    });
  }
}

async function loadSamples(): Promise<void> {
  const index = JSON.parse(
    new TextDecoder().decode(await fetchBytes('digits/index.json')),
  ) as Sample[];
  const grid = element('samples');
  for (const [i, sample] of index.entries()) {
    const bytes = await fetchBytes(`digits/${sample.file}`);
    const image = await decode(bytes, sample.file);
    state.samples.push({ sample, image });
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sample';
    button.dataset.sample = String(i);
    button.dataset.label = String(sample.label);
    button.setAttribute('aria-label', `test digit ${i + 1}, a ${sample.label}`);
    const img = document.createElement('img');
    img.src = `digits/${sample.file}`;
    img.alt = '';
    button.append(img);
    button.addEventListener('click', () =>
      enqueue(`classifying test digit ${i + 1}`, () => useImage(image)),
    );
    grid.append(button);
  }
}

/**
 * The test seam: `gpunetDemo.classifyInput(values)` runs raw model inputs `[C, H, W]` (already
 * normalized) through the loaded model, so the browser test can compare logits with PyTorch's on
 * the fixtures' inputs.
 */
function exposeTestSeam(): void {
  (globalThis as { gpunetDemo?: unknown }).gpunetDemo = {
    classifyInput: async (values: number[]) => {
      if (!state.model) throw new Error('no model loaded');
      const result = await classify(state.model, Float32Array.from(values));
      return [...result.logits];
    },
  };
}

async function main(): Promise<void> {
  state.choices = await probeBackends();
  const asked = new URLSearchParams(location.search).get('backend');
  const usable = state.choices.filter((c) => c.reason === '').map((c) => c.name);
  // Without a choice: the wasm CPU backend, which is the fastest where the GPU is a software one.
  const preferred = usable.includes('wasm') ? 'wasm' : (usable[0] ?? 'reference');
  state.backend = asked && usable.includes(asked) ? asked : preferred;
  renderBackends();
  wireTabs();
  wireClassify();
  wireTraining();
  exposeTestSeam();
  enqueue(`starting ${state.backend}`, async () => {
    await setBackend(state.backend);
    await loadSamples();
    await loadBundled();
  });
}

void main();

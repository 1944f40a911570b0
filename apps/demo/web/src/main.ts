/**
 * The web demo page: pick a backend and weights, classify an image (top-5 bars, per-layer
 * timings, conv1 filters, conv1/conv2 feature maps), or train the mini AlexNet in the page.
 * `?backend=<name>` preselects a backend.
 */
import '@gpunet/kernels';
import '@gpunet/wasm';
import type { AlexNet } from '@gpunet/alexnet';
import { setBackend } from '@gpunet/tensor';
import { type BackendChoice, probeBackends } from './backends.js';
import { drawTiles, loadImage } from './image.js';
import {
  buildModel,
  CLASS_NAMES,
  type Classification,
  classify,
  conv1Filters,
  MODEL_OPTIONS,
  message,
  type WeightsSource,
} from './model.js';
import { trainInPage } from './train.js';

const SAMPLES = ['horizontal', 'vertical', 'diagonal', 'antidiagonal'];
const BUNDLED = 'mini-bars.safetensors';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html has no #${id}`);
  return found as T;
}

const state: {
  backend: string;
  weights: WeightsSource | null;
  model: AlexNet | null;
  image: Float32Array | null;
  trained: Uint8Array | null;
} = { backend: 'reference', weights: null, model: null, image: null, trained: null };

function setStatus(text: string, kind: 'loading' | 'busy' | 'ready' | 'error'): void {
  const status = element('status');
  status.textContent = text;
  status.dataset.state = kind;
}

// Every action runs after the previous one: backend, weights and image changes never interleave.
let queue: Promise<void> = Promise.resolve();
function enqueue(what: string, action: () => Promise<void>): void {
  queue = queue.then(async () => {
    setStatus(`${what}…`, 'busy');
    try {
      await action();
      setStatus(`${state.weights?.name ?? ''} on ${state.backend}: ready`, 'ready');
    } catch (error) {
      console.error(error);
      setStatus(`${what} failed: ${message(error)}`, 'error');
    }
  });
}

/** Rebuilds the model on the current backend from the current weights, then redraws. */
async function rebuild(): Promise<void> {
  if (!state.weights) return;
  const model = buildModel(state.weights);
  if (state.model) for (const p of state.model.parameters()) p.dispose();
  state.model = model;
  element('weights-name').textContent = state.weights.name;
  const filters = await conv1Filters(model);
  const [count, inChannels, k] = filters.shape;
  drawTiles(element('filters'), filters.data, count * inChannels, k, k, 8);
  if (state.image) await runClassification();
}

async function runClassification(): Promise<void> {
  if (!state.model || !state.image) return;
  const result = await classify(state.model, state.image);
  showResult(result);
}

function showResult(result: Classification): void {
  const ranked = [...result.probabilities]
    .map((probability, index) => ({ probability, index }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, 5);
  const bars = element('bars');
  bars.replaceChildren(
    ...ranked.map(({ probability, index }) => {
      const row = document.createElement('div');
      row.className = 'bar';
      row.dataset.label = CLASS_NAMES[index];
      row.dataset.probability = String(probability);
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.width = `${(probability * 100).toFixed(1)}%`;
      const track = document.createElement('div');
      track.append(fill);
      const name = document.createElement('span');
      name.textContent = CLASS_NAMES[index];
      const value = document.createElement('span');
      value.textContent = `${(probability * 100).toFixed(1)}%`;
      row.append(name, track, value);
      return row;
    }),
  );
  const rows = result.timings.map(
    (t) =>
      `<tr><td>${t.path}</td><td>${t.type}</td><td>[${t.shape.join(', ')}]</td><td>${t.ms.toFixed(2)} ms</td></tr>`,
  );
  const total = result.timings.reduce((sum, t) => sum + t.ms, 0);
  element('timings').innerHTML =
    `${rows.join('')}<tr><th colspan="3">total</th><th>${total.toFixed(2)} ms</th></tr>`;
  for (const map of result.maps) {
    const [, channels, height, width] = map.shape;
    drawTiles(
      element(`maps-${map.name}`),
      map.data,
      channels,
      height,
      width,
      map.name === 'conv1' ? 3 : 5,
    );
  }
  const box = element('result');
  box.dataset.state = 'done';
  box.dataset.backend = state.backend;
  box.dataset.logits = JSON.stringify([...result.logits]);
}

async function useImage(source: Blob | string): Promise<void> {
  const { values, preview } = await loadImage(source, MODEL_OPTIONS.inputSize);
  const canvas = element<HTMLCanvasElement>('preview');
  const context = canvas.getContext('2d');
  if (context) {
    context.imageSmoothingEnabled = false;
    context.drawImage(preview, 0, 0, canvas.width, canvas.height);
  }
  state.image = values;
  element('result').dataset.state = 'busy';
  await runClassification();
}

async function useWeights(source: WeightsSource): Promise<void> {
  const previous = state.weights;
  state.weights = source;
  try {
    await rebuild();
  } catch (error) {
    state.weights = previous; // keep the model that works
    throw error;
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function renderBackends(choices: BackendChoice[]): void {
  const form = element('backends');
  form.replaceChildren(
    ...choices.map((choice) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'backend';
      input.value = choice.name;
      input.disabled = choice.reason !== '';
      input.checked = choice.name === state.backend;
      label.append(input, ` ${choice.label} `);
      const remark = document.createElement('span');
      remark.className = 'reason';
      remark.textContent = choice.reason ? `unavailable: ${choice.reason}` : choice.note;
      label.append(remark);
      if (input.disabled) label.className = 'disabled';
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

function isWeightsFile(file: File): boolean {
  return /\.(safetensors|pth|pt)$/i.test(file.name);
}

async function fileSource(file: File): Promise<WeightsSource> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

function wireInputs(): void {
  const samples = element('samples');
  for (const name of SAMPLES) {
    const img = document.createElement('img');
    img.src = `samples/${name}.png`;
    img.alt = img.title = name;
    img.dataset.sample = name;
    img.addEventListener('click', () => enqueue(`classifying ${name}`, () => useImage(img.src)));
    samples.append(img);
  }
  element<HTMLInputElement>('image-file').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) enqueue(`classifying ${file.name}`, () => useImage(file));
  });
  element<HTMLInputElement>('weights-file').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) enqueue(`loading ${file.name}`, async () => useWeights(await fileSource(file)));
  });
  element('weights-bundled').addEventListener('click', () =>
    enqueue('loading the bundled weights', async () =>
      useWeights({ name: BUNDLED, bytes: await fetchBytes(BUNDLED) }),
    ),
  );
  const drop = element('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    if (isWeightsFile(file)) {
      enqueue(`loading ${file.name}`, async () => useWeights(await fileSource(file)));
    } else enqueue(`classifying ${file.name}`, () => useImage(file));
  });
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab')) {
    tab.addEventListener('click', () => {
      for (const other of document.querySelectorAll<HTMLButtonElement>('.tab')) {
        const isSelected = other === tab;
        other.setAttribute('aria-selected', String(isSelected));
        element(`tab-${other.dataset.tab}`).hidden = !isSelected;
      }
    });
  }
  wireTraining();
}

function wireTraining(): void {
  const start = element<HTMLButtonElement>('train-start');
  const stop = element<HTMLButtonElement>('train-stop');
  const use = element<HTMLButtonElement>('train-use');
  const statusLine = element('train-status');
  let isStopped = false;
  start.addEventListener('click', () => {
    isStopped = false;
    start.disabled = true;
    stop.disabled = false;
    enqueue(`training on ${state.backend}`, async () => {
      try {
        state.trained = await trainInPage({
          epochs: Number(element<HTMLInputElement>('train-epochs').value) || 3,
          count: 1024,
          batchSize: 16,
          canvas: element('chart'),
          onStatus: (line) => {
            statusLine.textContent = line;
          },
          isStopped: () => isStopped,
        });
        use.disabled = false;
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
    const bytes = state.trained;
    if (bytes)
      enqueue('loading the trained model', () =>
        useWeights({ name: 'trained in the page', bytes }),
      );
  });
}

async function main(): Promise<void> {
  const choices = await probeBackends();
  const asked = new URLSearchParams(location.search).get('backend');
  const usable = choices.filter((c) => c.reason === '').map((c) => c.name);
  state.backend = asked && usable.includes(asked) ? asked : (usable[0] ?? 'reference');
  renderBackends(choices);
  wireInputs();
  enqueue(`starting ${state.backend}`, async () => {
    await setBackend(state.backend);
    await useWeights({ name: BUNDLED, bytes: await fetchBytes(BUNDLED) });
  });
}

void main();

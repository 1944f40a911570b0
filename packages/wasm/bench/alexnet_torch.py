"""The paper's AlexNet in PyTorch, for the wasm benchmark's peers (run with Debian's python3-torch).

  python3 alexnet_torch.py export PATH       writes the network as ONNX (dynamic batch) for onnxruntime-node
  python3 alexnet_torch.py time THREADS      prints PyTorch's images/s as JSON: inference at batch 1 and 16,
                                             a training step (forward, cross-entropy, backward, SGD) at 16
  python3 alexnet_torch.py train-mini THREADS BATCH STEPS
                                             the same for the mini AlexNet (@gpunet/alexnet variant 'mini'
                                             on 1x28x28, 10 classes, as `gpunet train --data idx:...` builds it)
  python3 alexnet_torch.py train THREADS BATCH STEPS
                                             two warm-up and STEPS timed training steps at BATCH: images/s
                                             and the process's peak RSS (bytes) as JSON

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (env -u ...): some machines set them and
they slow OpenBLAS; the JSON says what the peer ran with.
"""
import json
import os
import resource
import sys
import time

import torch
from torch import nn


def alexnet():
    """227x227 input; groups 2 in conv2/4/5; the paper's LRN (k 2, alpha 1e-4 undivided = 5e-4 / 5)."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


def mini():
    """@gpunet/alexnet's 'mini' for 1x28x28 input and 10 classes (channels 16/32/48/48/32, fc 128)."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(16, 32, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 48, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(48, 48, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(48, 32, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(128, 128), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(128, 128), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def images_per_second(step, batch, seconds=1.5):
    step()
    count, start = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - start < seconds:
        step()
        count += 1
    return batch * count / (time.perf_counter() - start)


def main():
    torch.manual_seed(0)
    model = alexnet()
    if sys.argv[1] == 'export':
        model.eval()
        torch.onnx.export(model, torch.randn(1, 3, 227, 227), sys.argv[2], input_names=['images'],
                          output_names=['logits'], dynamic_axes={'images': {0: 'batch'}, 'logits': {0: 'batch'}},
                          opset_version=13)
        return
    torch.set_num_threads(int(sys.argv[2]))
    # Which BLAS the process loaded: Debian's python3-torch takes whatever libblas.so.3 the
    # system selects, and netlib's reference BLAS (package libblas3) makes a slow peer.
    with open('/proc/self/maps') as maps:
        blas = sorted({line.split()[-1] for line in maps if 'blas' in line.split()[-1]})
    result = {'version': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas,
              'OPENBLAS_CORETYPE': os.environ.get('OPENBLAS_CORETYPE'),
              'OPENBLAS_L2_SIZE': os.environ.get('OPENBLAS_L2_SIZE')}
    if sys.argv[1] in ('train', 'train-mini'):
        batch, steps = int(sys.argv[3]), int(sys.argv[4])
        small = sys.argv[1] == 'train-mini'
        if small:
            model = mini()
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(batch, 1, 28, 28) if small else torch.randn(batch, 3, 227, 227)
        y = torch.randint(0, 10 if small else 1000, (batch,))

        def step():
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

        step()
        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        result['imagesPerSecond'] = batch * steps / (time.perf_counter() - start)
        result['peakRss'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(result))
        return
    model.eval()
    with torch.no_grad():
        for batch in (1, 16):
            x = torch.randn(batch, 3, 227, 227)
            result[f'inference{batch}'] = images_per_second(lambda: model(x), batch)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(16, 3, 227, 227)
    y = torch.randint(0, 1000, (16,))

    def train_step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    result['train16'] = images_per_second(train_step, 16)
    print(json.dumps(result))


if __name__ == '__main__':
    main()

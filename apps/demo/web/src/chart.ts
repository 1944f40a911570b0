/** A hand-drawn line chart of training loss and accuracy on a canvas. */

const LOSS_COLOR = '#d62728';
const ACCURACY_COLOR = '#1f77b4';
const VALIDATION_COLOR = '#2ca02c';

/** One point per training batch. */
export interface TrainingPoint {
  step: number;
  loss: number;
  /** Batch accuracy, in [0, 1]. */
  accuracy: number;
  /** Held-out accuracy at the end of an epoch, on that epoch's last point. */
  validation?: number;
}

/** Draws loss (scaled to its max), batch accuracy and held-out accuracy (0..1) against the step. */
export function drawChart(canvas: HTMLCanvasElement, points: readonly TrainingPoint[]): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const pad = 32;
  const top = 24; // room for the legend above the plot
  context.clearRect(0, 0, width, height);
  context.strokeStyle = '#999';
  context.strokeRect(pad, top, width - 2 * pad, height - pad - top);
  context.fillStyle = '#333';
  context.font = '11px sans-serif';
  if (points.length === 0) return;
  const maxStep = Math.max(points[points.length - 1].step, 1);
  const maxLoss = Math.max(...points.map((p) => p.loss), 1e-6);
  const x = (step: number) => pad + (step / maxStep) * (width - 2 * pad);
  const y = (fraction: number) => height - pad - fraction * (height - pad - top);
  const line = (color: string, value: (p: TrainingPoint) => number) => {
    context.strokeStyle = color;
    context.beginPath();
    points.forEach((p, i) => {
      if (i === 0) context.moveTo(x(p.step), y(value(p)));
      else context.lineTo(x(p.step), y(value(p)));
    });
    context.stroke();
  };
  line(LOSS_COLOR, (p) => p.loss / maxLoss);
  line(ACCURACY_COLOR, (p) => p.accuracy);
  context.fillStyle = VALIDATION_COLOR;
  for (const p of points) {
    if (p.validation === undefined) continue;
    context.beginPath();
    context.arc(x(p.step), y(p.validation), 4, 0, 2 * Math.PI);
    context.fill();
  }
  context.fillStyle = '#333';
  context.fillText(`step ${maxStep}`, width - pad - 50, height - 12);
  context.fillStyle = LOSS_COLOR;
  context.fillText(`loss (max ${maxLoss.toFixed(2)})`, pad + 4, 16);
  context.fillStyle = ACCURACY_COLOR;
  context.fillText('batch accuracy (0..1)', width - pad - 210, 16);
  context.fillStyle = VALIDATION_COLOR;
  context.fillText('● held-out', width - pad - 70, 16);
}

// Time left from the recent rate: the last samples (time, step) of a running job, not the average since the start
// (Gatys steps get slower as the image grows coarse-to-fine, so the long-run average runs low).
export type Sample = { t: number; step: number };

export const WINDOW_MS = 20000; // the rate over about the last 20 s
export const KEEP = 12;

/** Adds a sample when the step moved; keeps the recent ones. */
export function addSample(list: Sample[], s: Sample): Sample[] {
  const last = list[list.length - 1];
  if (last && s.step <= last.step) return s.step < last.step ? [s] : list; // a restart (retry) starts over
  return [...list, s].slice(-KEEP);
}

/** Seconds left at the recent rate, or null when there are too few samples (the caller falls back to the server's). */
export function recentEta(list: Sample[], total: number): number | null {
  if (list.length < 2) return null;
  const last = list[list.length - 1];
  const first = list.find((s) => last.t - s.t <= WINDOW_MS && s !== last) ?? list[list.length - 2];
  const steps = last.step - first.step;
  const ms = last.t - first.t;
  if (steps <= 0 || ms <= 0) return null;
  return Math.max(0, ((total - last.step) * ms) / steps / 1000);
}

// Polls a job until it ends. Fast while it moves, slower while it doesn't, slower still while the network fails.
import { ApiError, getJob, Job, TERMINAL } from './api';

export const BACKOFF = { first: 500, factor: 1.6, max: 5000, errorFirst: 2000, errorMax: 30000 };

/** The wait before the next poll. */
export function nextDelay(prev: number, outcome: 'changed' | 'same' | 'failed'): number {
  if (outcome === 'changed') return BACKOFF.first;
  if (outcome === 'same') return Math.min(Math.max(prev, BACKOFF.first) * BACKOFF.factor, BACKOFF.max);
  return Math.min(Math.max(prev * 2, BACKOFF.errorFirst), BACKOFF.errorMax);
}

function moved(a: Job | null, b: Job): boolean {
  return !a || a.status !== b.status || a.progress.step !== b.progress.step || a.progress.total !== b.progress.total;
}

export type Poller = { stop: () => void; now: () => void };

export type PollHandlers = {
  onJob: (job: Job) => void;
  onError: (err: ApiError, failures: number) => void;
  fetchJob?: (base: string, id: string) => Promise<Job>; // injectable for tests
};

export function pollJob(base: string, id: string, h: PollHandlers): Poller {
  const fetchJob = h.fetchJob ?? getJob;
  let last: Job | null = null;
  let delay = 0;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  let busy = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
  };

  async function tick() {
    timer = null;
    if (stopped || busy) return;
    busy = true;
    try {
      const job = await fetchJob(base, id);
      if (stopped) return;
      failures = 0;
      delay = nextDelay(delay, moved(last, job) ? 'changed' : 'same');
      last = job;
      h.onJob(job);
      if (TERMINAL.includes(job.status)) stopped = true;
    } catch (e: any) {
      if (stopped) return;
      const err = e instanceof ApiError ? e : new ApiError(0, 'network', String(e?.message ?? e));
      failures += 1;
      delay = nextDelay(delay, 'failed');
      h.onError(err, failures);
      if (err.status === 404) stopped = true; // the job is gone (expired): polling more cannot help
    } finally {
      busy = false;
    }
    schedule(delay);
  }

  schedule(0);
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    now: () => {
      if (!stopped) schedule(0);
    },
  };
}

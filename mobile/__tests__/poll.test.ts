import { ApiError, Job } from '../src/lib/api';
import { BACKOFF, nextDelay, pollJob } from '../src/lib/poll';

function job(status: Job['status'], step = 0, total = 10): Job {
  return {
    id: 'j', kind: 'stylize', status, progress: { step, total, fraction: total ? step / total : 0 },
    eta_seconds: null, queue_position: null, params: {}, error: null,
    urls: { get: '', result: '', preview: '', cancel: '' },
  };
}

// Lets the awaited fetch inside a tick settle.
const flush = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('nextDelay: fast while moving, growing to a cap while not, slower still on errors', () => {
  expect(nextDelay(4000, 'changed')).toBe(BACKOFF.first);
  let d = BACKOFF.first;
  const seen = [];
  for (let i = 0; i < 10; i++) seen.push((d = nextDelay(d, 'same')));
  expect(seen[0]).toBe(BACKOFF.first * BACKOFF.factor);
  expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
  expect(seen[seen.length - 1]).toBe(BACKOFF.max);
  expect(nextDelay(500, 'failed')).toBe(BACKOFF.errorFirst);
  expect(nextDelay(BACKOFF.errorFirst, 'failed')).toBe(BACKOFF.errorFirst * 2);
  expect(nextDelay(BACKOFF.errorMax, 'failed')).toBe(BACKOFF.errorMax);
});

test('polls until a terminal state, reporting each job, then stops', async () => {
  const answers = [job('queued'), job('running', 3), job('running', 7), job('succeeded', 10)];
  const fetchJob = jest.fn(() => Promise.resolve(answers.shift()!));
  const onJob = jest.fn();
  pollJob('http://s', 'j', { onJob, onError: jest.fn(), fetchJob });
  for (let i = 0; i < 8; i++) { jest.advanceTimersByTime(BACKOFF.max); await flush(); }
  expect(onJob.mock.calls.map((c) => c[0].status)).toEqual(['queued', 'running', 'running', 'succeeded']);
  expect(fetchJob).toHaveBeenCalledTimes(4); // nothing after succeeded
});

test('backs off while nothing changes: polls get further apart', async () => {
  const fetchJob = jest.fn(() => Promise.resolve(job('running', 2)));
  pollJob('http://s', 'j', { onJob: jest.fn(), onError: jest.fn(), fetchJob });
  const times: number[] = [];
  for (let t = 0; t <= 20000; t += 100) {
    const before = fetchJob.mock.calls.length;
    jest.advanceTimersByTime(100);
    await flush();
    if (fetchJob.mock.calls.length > before) times.push(t);
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  expect(gaps.length).toBeGreaterThan(3);
  expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0]);
  expect(Math.max(...gaps)).toBeLessThanOrEqual(BACKOFF.max + 100);
});

test('network errors are reported with a count, polling continues and recovers', async () => {
  const fetchJob = jest.fn()
    .mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
    .mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
    .mockResolvedValueOnce(job('succeeded', 10));
  const onError = jest.fn();
  const onJob = jest.fn();
  pollJob('http://s', 'j', { onJob, onError, fetchJob });
  for (let i = 0; i < 10; i++) { jest.advanceTimersByTime(BACKOFF.errorFirst * 2); await flush(); }
  expect(onError.mock.calls.map((c) => c[1])).toEqual([1, 2]);
  expect(onJob).toHaveBeenCalledTimes(1);
  expect(onJob.mock.calls[0][0].status).toBe('succeeded');
});

test('now() polls at once instead of waiting out the backoff (the Retry button)', async () => {
  const fetchJob = jest.fn()
    .mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
    .mockResolvedValue(job('running', 1));
  const p = pollJob('http://s', 'j', { onJob: jest.fn(), onError: jest.fn(), fetchJob });
  jest.advanceTimersByTime(0);
  await flush();
  expect(fetchJob).toHaveBeenCalledTimes(1);
  jest.advanceTimersByTime(100); // far less than the error backoff
  await flush();
  expect(fetchJob).toHaveBeenCalledTimes(1);
  p.now();
  jest.advanceTimersByTime(0);
  await flush();
  expect(fetchJob).toHaveBeenCalledTimes(2);
  p.stop();
});

test('a 404 (job expired) stops polling; stop() stops it too', async () => {
  const fetchJob = jest.fn().mockRejectedValue(new ApiError(404, 'job_not_found', 'no such job'));
  const onError = jest.fn();
  pollJob('http://s', 'j', { onJob: jest.fn(), onError, fetchJob });
  for (let i = 0; i < 5; i++) { jest.advanceTimersByTime(BACKOFF.errorMax); await flush(); }
  expect(fetchJob).toHaveBeenCalledTimes(1);
  expect(onError.mock.calls[0][0].status).toBe(404);

  const f2 = jest.fn(() => Promise.resolve(job('running', 1)));
  const p = pollJob('http://s', 'k', { onJob: jest.fn(), onError: jest.fn(), fetchJob: f2 });
  jest.advanceTimersByTime(0);
  await flush();
  p.stop();
  for (let i = 0; i < 5; i++) { jest.advanceTimersByTime(BACKOFF.max); await flush(); }
  expect(f2).toHaveBeenCalledTimes(1);
});

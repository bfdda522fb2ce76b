import type { Job, Preset } from '../src/lib/api';
import type { StylesState } from '../src/lib/useStyles';

export function job(status: Job['status'], step = 0, total = 10, extra: Partial<Job> = {}): Job {
  return {
    id: 'job1', kind: 'stylize', status, progress: { step, total, fraction: total ? step / total : 0 },
    eta_seconds: null, queue_position: null, params: {}, error: null,
    urls: { get: '/api/jobs/job1', result: '/api/jobs/job1/result', preview: '/api/jobs/job1/preview', cancel: '/api/jobs/job1/cancel' },
    ...extra,
  };
}

export const presets: Preset[] = [
  { id: 0, name: 'Candy', thumbnail: 'http://s/api/styles/0.jpg' },
  { id: 3, name: 'Wave', thumbnail: 'http://s/api/styles/3.jpg' },
];

export function stylesState(extra: Partial<StylesState> = {}): StylesState {
  return { presets, loading: false, error: null, reload: jest.fn(), ...extra };
}

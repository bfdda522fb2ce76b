import type { Job, Preset } from '../src/lib/api';
import type { StylesState } from '../src/lib/useStyles';

// Real answers of the API, recorded by tests/test_app_fixtures.py (which fails when the server's shapes drift).
export const fixtures = {
  styles: require('./fixtures/styles.json'),
  health: require('./fixtures/health.json'),
  generators: require('./fixtures/generators.json'),
  queued: require('./fixtures/job_queued.json') as Job,
  running: require('./fixtures/job_running.json') as Job,
  succeeded: require('./fixtures/job_succeeded.json') as Job,
  portrait: require('./fixtures/portrait_succeeded.json') as Job,
  errorSteps: require('./fixtures/error_steps.json'),
  errorImage: require('./fixtures/error_image.json'),
  contract: require('./fixtures/contract.json'),
};

/** The recorded running job, with id job1 and the given state. */
export function job(status: Job['status'], step = 0, total = 10, extra: Partial<Job> = {}): Job {
  const base: Job = JSON.parse(JSON.stringify(fixtures.running).split(fixtures.running.id).join('job1'));
  return { ...base, status, progress: { step, total, fraction: total ? step / total : 0 }, eta_seconds: null, ...extra };
}

export const presets: Preset[] = [
  { id: 0, name: 'Candy', thumbnail: 'http://s/api/styles/0.jpg' },
  { id: 3, name: 'Wave', thumbnail: 'http://s/api/styles/3.jpg' },
];

export function stylesState(extra: Partial<StylesState> = {}): StylesState {
  return { presets, loading: false, error: null, reload: jest.fn(), ...extra };
}

import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import * as actions from '../src/lib/actions';
import * as api from '../src/lib/api';
import type { Entry } from '../src/lib/history';
import JobScreen, { formatEta, statusLine } from '../src/screens/JobScreen';
import { job } from './helpers';

jest.mock('../src/lib/actions', () => ({ saveResult: jest.fn(), shareResult: jest.fn() }));

const entry: Entry = {
  id: 'job1', kind: 'stylize', base: 'http://s', createdAt: 1, status: 'queued', engine: 'gatys', size: 256,
  styleName: 'Wave', content: { uri: 'file:///p.jpg', name: 'p.jpg', type: 'image/jpeg' },
};

function mount(extra: Partial<React.ComponentProps<typeof JobScreen>> = {}) {
  const props = { entry, onChange: jest.fn(), onRunAgain: jest.fn(), onClose: jest.fn(), ...extra };
  render(<JobScreen {...props} />);
  return props;
}

afterEach(() => jest.restoreAllMocks());

test('statusLine and formatEta read well', () => {
  expect(statusLine(job('queued', 0, 0, { queue_position: 2 }))).toBe('Waiting in line (position 2)');
  expect(statusLine(job('running', 3, 10, { eta_seconds: 75 }))).toBe('Painting · step 3/10 · about 1 min 15 s left');
  expect(statusLine(job('failed', 0, 0, { error: { code: 'x', message: 'boom' } }))).toBe('Failed: boom');
  expect(formatEta(0.2)).toBe('1 s');
});

test('running: progress bar with step/total and ETA, live preview, cancel', async () => {
  let server = job('running', 3, 10, { eta_seconds: 12 });
  jest.spyOn(api, 'getJob').mockImplementation(async () => server);
  const cancel = jest.spyOn(api, 'cancelJob').mockImplementation(async () => (server = job('canceled', 3, 10)));
  const props = mount();
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent('Painting · step 3/10 · about 12 s left'));
  expect(screen.getByTestId('job-progress')).toHaveAccessibilityValue({ now: 30 });
  expect(screen.getByTestId('job-preview').props.source).toEqual({ uri: 'http://s/api/jobs/job1/preview?v=3' });
  expect(props.onChange).toHaveBeenCalledWith(expect.objectContaining({ status: 'running' }));
  fireEvent.press(screen.getByTestId('cancel'));
  // asks first; "Keep painting" changes nothing
  expect(screen.getByTestId('cancel-confirm')).toHaveTextContent(/Stop painting\?/);
  fireEvent.press(screen.getByTestId('cancel-no'));
  expect(cancel).not.toHaveBeenCalled();
  fireEvent.press(screen.getByTestId('cancel'));
  fireEvent.press(screen.getByTestId('cancel-yes'));
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent('Canceled'));
  expect(cancel).toHaveBeenCalledWith('http://s', 'job1');
  // the last preview stays
  expect(screen.getByTestId('job-last-preview').props.source).toEqual({ uri: 'http://s/api/jobs/job1/preview?v=last' });
  expect(screen.queryByTestId('cancel')).toBeNull();
  expect(screen.queryByTestId('job-progress')).toBeNull();
  fireEvent.press(screen.getByTestId('run-again'));
  expect(props.onRunAgain).toHaveBeenCalledWith(entry, expect.objectContaining({ status: 'canceled' }));
});

test('succeeded: before/after, save and share', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10));
  (actions.saveResult as jest.Mock).mockResolvedValue('Saved to your photos.');
  (actions.shareResult as jest.Mock).mockRejectedValue(new Error('Sharing is not available on this device.'));
  mount();
  await waitFor(() => expect(screen.getByTestId('result-image')).toBeTruthy());
  expect(screen.getByTestId('result-image').props.source).toEqual({ uri: 'http://s/api/jobs/job1/result' });
  // the server's stored copy of the photo (urls.content) is the "before": it survives a reload
  expect(screen.getByTestId('before-image').props.source).toEqual({ uri: 'http://s/api/jobs/job1/content' });
  expect(screen.getByTestId('save-result')).toHaveTextContent('Save to photos');
  fireEvent.press(screen.getByTestId('save-result'));
  await waitFor(() => expect(screen.getByTestId('action-note')).toHaveTextContent('Saved to your photos.'));
  expect(actions.saveResult).toHaveBeenCalledWith('http://s', 'job1', expect.stringMatching(/^neural-art_wave_\d{4}-\d\d-\d\d_\d{4}\.png$/));
  fireEvent.press(screen.getByTestId('share-result'));
  await waitFor(() => expect(screen.getByTestId('action-error')).toHaveTextContent(/not available/));
  fireEvent.press(screen.getByTestId('compare-after'));
  expect(screen.queryByTestId('before-image')).toBeNull();
});

test('failed: the server message is shown, no result actions', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('failed', 2, 10, { error: { code: 'time_limit', message: 'the job ran past its time limit' } }));
  mount();
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent('Failed: the job ran past its time limit'));
  expect(screen.queryByTestId('save-result')).toBeNull();
  expect(screen.getByTestId('run-again')).toBeTruthy();
});

test('a network error shows Retry now, which polls again at once and recovers', async () => {
  const get = jest.spyOn(api, 'getJob')
    .mockRejectedValueOnce(new api.ApiError(0, 'network', 'The server http://s is unreachable.'))
    .mockResolvedValue(job('running', 5, 10));
  mount();
  await waitFor(() => expect(screen.getByTestId('job-error')).toHaveTextContent(/unreachable/));
  fireEvent.press(screen.getByTestId('job-error-retry'));
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent(/step 5\/10/), { timeout: 1000 });
  expect(screen.queryByTestId('job-error')).toBeNull();
  expect(get.mock.calls.length).toBeGreaterThanOrEqual(2);
});

test('an expired job (404) says so instead of retrying forever', async () => {
  jest.spyOn(api, 'getJob').mockRejectedValue(new api.ApiError(404, 'job_not_found', 'no such job'));
  mount();
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent(/no longer on the server/));
  expect(screen.queryByTestId('job-error')).toBeNull();
});

test('a fast portrait compares the generated face (its only snapshot) with the painting', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10, { kind: 'portrait' }));
  mount({ entry: { ...entry, kind: 'portrait', engine: 'fast', seed: 42, content: null } });
  await waitFor(() => expect(screen.getByTestId('result-image')).toBeTruthy());
  expect(screen.getByText('Portrait · face #42')).toBeTruthy();
  expect(screen.getByTestId('before-image').props.source).toEqual({ uri: 'http://s/api/jobs/job1/preview?v=face' });
  expect(screen.getByTestId('compare-before')).toHaveTextContent('Face');
});

test('a Gatys portrait has no face to compare (its snapshots are paintings)', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10, { kind: 'portrait' }));
  mount({ entry: { ...entry, kind: 'portrait', engine: 'gatys', seed: 42, content: null } });
  await waitFor(() => expect(screen.getByTestId('result-image')).toBeTruthy());
  expect(screen.queryByTestId('before-image')).toBeNull();
});

test('a terminal state is final: a late poll answer cannot bring back "running"', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValueOnce(job('running', 3, 10)).mockResolvedValue(job('running', 4, 10));
  jest.spyOn(api, 'cancelJob').mockResolvedValue(job('canceled', 3, 10));
  mount();
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent(/step 3\/10/));
  fireEvent.press(screen.getByTestId('cancel'));
  fireEvent.press(screen.getByTestId('cancel-yes'));
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent('Canceled'));
  await new Promise((r) => setTimeout(r, 700)); // past the next poll
  expect(screen.getByTestId('job-status')).toHaveTextContent('Canceled');
});

test('a "before" photo that no longer loads (web blob after a reload) is dropped, the result stays', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10));
  mount();
  await waitFor(() => expect(screen.getByTestId('before-image')).toBeTruthy());
  fireEvent(screen.getByTestId('before-image'), 'error', { nativeEvent: { error: 'gone' } });
  expect(screen.queryByTestId('before-image')).toBeNull();
  expect(screen.queryByTestId('compare-before')).toBeNull();
  expect(screen.getByTestId('result-image')).toBeTruthy();
});

test('after a reload the web photo is gone: the result shows and a line says why there is no "before"', async () => {
  const done = job('succeeded', 10, 10);
  delete done.urls.content;  // a server without the stored photo (expired)
  jest.spyOn(api, 'getJob').mockResolvedValue(done);
  mount({ entry: { ...entry, content: { uri: 'blob:http://x/1', name: 'p.jpg', type: 'image/jpeg' } } });
  await waitFor(() => expect(screen.getByTestId('result-image')).toBeTruthy());
  expect(screen.queryByTestId('before-image')).toBeNull();
  expect(screen.getByTestId('before-lost')).toHaveTextContent(/forgot it when the page was reloaded/);
});

test('the "before" comes from the job\'s own URLs when the server offers them (urls.face, urls.content)', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10, { kind: 'portrait',
    urls: { ...job('succeeded').urls, face: '/api/jobs/job1/face' } }));
  mount({ entry: { ...entry, kind: 'portrait', engine: 'gatys', seed: 3, content: null } });
  await waitFor(() => expect(screen.getByTestId('before-image')).toBeTruthy());
  expect(screen.getByTestId('before-image').props.source).toEqual({ uri: 'http://s/api/jobs/job1/face' });
});

test('a portrait from a photo is titled so and compares with that photo', async () => {
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10, { kind: 'portrait' }));
  mount({ entry: { ...entry, kind: 'portrait', engine: 'fast', seed: null, upscale: 2 } });
  await waitFor(() => expect(screen.getByTestId('before-image')).toBeTruthy());
  expect(screen.getByText('Portrait · from your photo')).toBeTruthy();
  expect(screen.getByText(/print ×2/)).toBeTruthy();
  expect(screen.getByTestId('before-image').props.source).toEqual({ uri: 'file:///p.jpg' });
});

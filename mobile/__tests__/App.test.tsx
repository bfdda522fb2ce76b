import AsyncStorage from '@react-native-async-storage/async-storage';
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import App from '../App';
import * as api from '../src/lib/api';
import { HISTORY_KEY } from '../src/lib/history';
import { SERVER_KEY } from '../src/lib/settings';
import { job, presets } from './helpers';

beforeEach(async () => {
  await AsyncStorage.clear();
  jest.spyOn(api, 'getStyles').mockResolvedValue(presets);
});
afterEach(() => jest.restoreAllMocks());

test('starts on Stylize with the presets; tabs switch screens', async () => {
  render(<App />);
  await waitFor(() => expect(screen.getByTestId('preset-3')).toBeTruthy());
  expect(screen.getByTestId('stylize-tab')).toBeSelected();
  fireEvent.press(screen.getByTestId('history-tab'));
  expect(screen.getByTestId('history-empty')).toBeTruthy();
  fireEvent.press(screen.getByTestId('settings-tab'));
  expect(screen.getByTestId('server-url')).toBeTruthy();
  fireEvent.press(screen.getByTestId('portrait-tab'));
  expect(screen.getByTestId('portrait-tab')).toBeSelected();
});

test('after a restart, a job that was still running is opened and polled again (resume)', async () => {
  await AsyncStorage.setItem(SERVER_KEY, 'http://saved:5000');
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify([
    { id: 'job1', kind: 'stylize', base: 'http://saved:5000', createdAt: 5, status: 'running', engine: 'gatys', styleName: 'Wave' },
    { id: 'old', kind: 'stylize', base: 'http://saved:5000', createdAt: 1, status: 'succeeded', engine: 'fast' },
  ]));
  const get = jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10));
  render(<App />);
  await waitFor(() => expect(screen.getByTestId('result-image')).toBeTruthy());
  expect(get).toHaveBeenCalledWith('http://saved:5000', 'job1');
  expect(api.getStyles).toHaveBeenCalledWith('http://saved:5000');
  // the new status is written back to the stored history
  await waitFor(async () => {
    const stored = JSON.parse((await AsyncStorage.getItem(HISTORY_KEY))!);
    expect(stored.find((x: any) => x.id === 'job1').status).toBe('succeeded');
  });
});

test('submitting opens the job view and records the job in history', async () => {
  const images = require('../src/lib/images');
  jest.spyOn(images, 'pickImage').mockResolvedValue({ uri: 'file:///p.jpg', name: 'p.jpg', type: 'image/jpeg' });
  jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued', 0, 0));
  jest.spyOn(api, 'getJob').mockResolvedValue(job('running', 1, 4));
  render(<App />);
  await waitFor(() => expect(screen.getByTestId('preset-3')).toBeTruthy());
  fireEvent.press(screen.getByTestId('content-pick'));
  await waitFor(() => expect(screen.getByLabelText('Your photo')).toBeTruthy());
  fireEvent.press(screen.getByTestId('preset-3'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(screen.getByTestId('job-status')).toHaveTextContent(/step 1\/4/));
  fireEvent.press(screen.getByTestId('history-tab'));
  expect(screen.getByTestId('history-item-job1')).toBeTruthy();
});

test('Run again goes back to the form with the same photo, preset and engine', async () => {
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify([
    { id: 'job1', kind: 'stylize', base: 'http://localhost:5000', createdAt: 5, status: 'running', engine: 'fast',
      preset: 3, strength: 0.5, size: 384, content: { uri: 'file:///p.jpg', name: 'p.jpg', type: 'image/jpeg' } },
  ]));
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10));
  render(<App />);
  fireEvent.press(await screen.findByTestId('run-again'));
  expect(screen.getByTestId('stylize-tab')).toBeSelected();
  expect(screen.getByLabelText('Your photo').props.source).toEqual({ uri: 'file:///p.jpg' });
  expect(screen.getByTestId('preset-3')).toBeChecked();
  expect(screen.getByTestId('strength')).toHaveAccessibilityValue({ now: 50 });
  expect(screen.getByTestId('submit')).toBeEnabled();
});

const blobEntry = { id: 'job1', kind: 'stylize', base: 'http://localhost:5000', createdAt: 5, status: 'succeeded', engine: 'fast',
  preset: 3, size: 384, content: { uri: 'blob:http://localhost:5000/dead', name: 'p.jpg', type: 'image/jpeg' } };

test('Run again after a page reload: the photo is gone, the settings come back and a notice says to pick it again', async () => {
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify([blobEntry]));
  jest.spyOn(api, 'getJob').mockResolvedValue(job('succeeded', 10, 10));
  render(<App />);
  fireEvent.press(await screen.findByTestId('history-tab'));
  fireEvent.press(screen.getByTestId('history-item-job1'));
  fireEvent.press(await screen.findByTestId('run-again'));
  await waitFor(() => expect(screen.getByTestId('draft-notice')).toHaveTextContent(/Your photo could not be kept/));
  expect(screen.getByTestId('preset-3')).toBeChecked();
  expect(screen.getByTestId('submit-hint')).toHaveTextContent('Pick a photo to paint.');
});

test('Run again after a reload takes the photo back from the server when the job offers it (urls.content)', async () => {
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify([blobEntry]));
  const done = job('succeeded', 10, 10);
  jest.spyOn(api, 'getJob').mockResolvedValue({ ...done, urls: { ...done.urls, content: '/api/jobs/job1/content' } });
  global.fetch = jest.fn(async () => ({ ok: true, status: 200, blob: async () => ({ type: 'image/png' }) })) as any;
  (global.URL as any).createObjectURL = jest.fn(() => 'blob:http://localhost:5000/new');
  render(<App />);
  fireEvent.press(await screen.findByTestId('history-tab'));
  fireEvent.press(screen.getByTestId('history-item-job1'));
  fireEvent.press(await screen.findByTestId('run-again'));
  await waitFor(() => expect(screen.getByLabelText('Your photo').props.source).toEqual({ uri: 'blob:http://localhost:5000/new' }));
  expect(global.fetch).toHaveBeenCalledWith('http://localhost:5000/api/jobs/job1/content', { headers: {} });
  expect(screen.queryByTestId('draft-notice')).toBeNull();
  expect(screen.getByTestId('submit')).toBeEnabled();
});

import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import * as api from '../src/lib/api';
import PortraitScreen from '../src/screens/PortraitScreen';
import { job, stylesState } from './helpers';

jest.mock('../src/lib/images', () => ({ pickImage: jest.fn() }));
afterEach(() => jest.restoreAllMocks());

test('a seed is shown; New face picks another; painting sends seed, preset and engine', async () => {
  const submit = jest.spyOn(api, 'submitPortrait').mockResolvedValue(job('queued', 0, 0, { kind: 'portrait' }));
  const onSubmitted = jest.fn();
  render(<PortraitScreen base="http://s" styles={stylesState()} onSubmitted={onSubmitted} seed0={1234} />);
  expect(screen.getByTestId('portrait-seed')).toHaveTextContent('Seed 1234');
  expect(screen.getByTestId('portrait-generate')).toBeDisabled();
  jest.spyOn(Math, 'random').mockReturnValue(0.5);
  fireEvent.press(screen.getByTestId('portrait-new-face'));
  expect(screen.getByTestId('portrait-seed')).toHaveTextContent('Seed 500000');
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('engine-gatys'));
  expect(screen.getByTestId('portrait-generate')).toBeDisabled(); // Best quality needs a style image
  fireEvent.press(screen.getByTestId('engine-fast'));
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(onSubmitted).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ seed: 500000, preset: 0, engine: 'fast', size: 512 });
  expect(onSubmitted.mock.calls[0][0]).toMatchObject({ kind: 'portrait', seed: 500000, styleName: 'Candy' });
});

test('a submit error is shown with retry', async () => {
  jest.spyOn(api, 'submitPortrait').mockRejectedValue(new api.ApiError(503, 'broker_unavailable', 'the job queue is unreachable'));
  render(<PortraitScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} seed0={1} />);
  fireEvent.press(screen.getByTestId('preset-3'));
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(screen.getByTestId('portrait-error')).toHaveTextContent(/queue is unreachable/));
  expect(screen.getByTestId('portrait-error-retry')).toBeTruthy();
});

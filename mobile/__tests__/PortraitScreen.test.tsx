import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import * as api from '../src/lib/api';
import * as images from '../src/lib/images';
import PortraitScreen from '../src/screens/PortraitScreen';
import { fixtures, job, stylesState } from './helpers';

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

test('From a photo: pick one, paint it (photo, no seed); the job is named from it', async () => {
  const submit = jest.spyOn(api, 'submitPortrait').mockResolvedValue(job('queued', 0, 0, { kind: 'portrait' }));
  const onSubmitted = jest.fn();
  render(<PortraitScreen base="http://s" styles={stylesState()} onSubmitted={onSubmitted} seed0={7} />);
  fireEvent.press(screen.getByTestId('portrait-from-photo'));
  expect(screen.getByTestId('portrait-from-photo')).toBeChecked();
  fireEvent.press(screen.getByTestId('preset-3'));
  expect(screen.getByTestId('portrait-generate')).toBeDisabled();
  expect(screen.getByTestId('portrait-hint')).toHaveTextContent('Pick a photo of a face.');
  const me = { uri: 'file:///me.jpg', name: 'me.jpg', type: 'image/jpeg', width: 600, height: 800 };
  (images.pickImage as jest.Mock).mockResolvedValueOnce(me);
  fireEvent.press(screen.getByTestId('portrait-photo-pick'));
  await waitFor(() => expect(screen.getByLabelText('Your portrait photo')).toBeTruthy());
  expect(images.pickImage).toHaveBeenCalledWith('library');
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(onSubmitted).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ seed: null, photo: me, preset: 3 });
  expect(onSubmitted.mock.calls[0][0]).toMatchObject({ kind: 'portrait', seed: null, content: me });
});

test('print size: x2 and x4 offered, sent as upscale', async () => {
  const submit = jest.spyOn(api, 'submitPortrait').mockResolvedValue(job('queued', 0, 0, { kind: 'portrait' }));
  render(<PortraitScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} seed0={7} />);
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  fireEvent.press(screen.getByTestId('upscale-4'));
  expect(screen.getByTestId('upscale-4')).toHaveTextContent('×4 · 2048 px');
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ seed: 7, upscale: 4 });
});

test('a trained face generator on the server can be chosen; it goes with the seed', async () => {
  const submit = jest.spyOn(api, 'submitPortrait').mockResolvedValue(job('queued', 0, 0, { kind: 'portrait' }));
  render(<PortraitScreen base="http://s" styles={stylesState({ generators: [{ name: 'paintings', size: 64 }] })}
    onSubmitted={jest.fn()} seed0={9} />);
  expect(screen.getByTestId('generator-bundled')).toBeChecked();
  fireEvent.press(screen.getByTestId('generator-paintings'));
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ seed: 9, generator: 'paintings' });
});

test('face strength (and every other portrait setting the server offers) comes from its contract, with its range', async () => {
  const { parseContract } = require('../src/lib/contract');
  const contract = parseContract(fixtures.contract);
  const submit = jest.spyOn(api, 'submitPortrait').mockResolvedValue(job('queued', 0, 0, { kind: 'portrait' }));
  render(<PortraitScreen base="http://s" styles={stylesState({ contract })} onSubmitted={jest.fn()} seed0={7} />);
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  fireEvent.changeText(screen.getByTestId('field-face_strength'), '3');
  expect(screen.getByTestId('field-face_strength-error')).toHaveTextContent('Face strength must be from 0 to 1, not 3.');
  expect(screen.getByTestId('portrait-generate')).toBeDisabled();
  fireEvent.changeText(screen.getByTestId('field-face_strength'), '0.6');
  fireEvent.press(screen.getByTestId('portrait-generate'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ seed: 7, extra: { face_strength: '0.6' } });
});

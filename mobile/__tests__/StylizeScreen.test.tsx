import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import * as api from '../src/lib/api';
import * as images from '../src/lib/images';
import StylizeScreen from '../src/screens/StylizeScreen';
import { fixtures, job, stylesState } from './helpers';

jest.mock('../src/lib/images', () => ({ pickImage: jest.fn() }));
const photo = { uri: 'file:///p.jpg', name: 'p.jpg', type: 'image/jpeg', width: 800, height: 600 };

afterEach(() => jest.restoreAllMocks());

async function pickPhoto() {
  (images.pickImage as jest.Mock).mockResolvedValueOnce(photo);
  fireEvent.press(screen.getByTestId('content-pick'));
  await waitFor(() => expect(screen.getByLabelText('Your photo')).toBeTruthy());
}

test('submit waits for a photo and a style, then sends them with an Idempotency-Key', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  const onSubmitted = jest.fn();
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={onSubmitted} />);
  expect(screen.getByTestId('submit')).toBeDisabled();
  expect(screen.getByTestId('submit-hint')).toHaveTextContent('Pick a photo to paint.');
  await pickPhoto();
  expect(screen.getByTestId('submit-hint')).toHaveTextContent('Choose a style.');
  fireEvent.press(screen.getByTestId('preset-3'));
  expect(screen.getByTestId('preset-3')).toBeChecked();
  expect(screen.getByTestId('preset-0')).not.toBeChecked();
  expect(screen.getByTestId('submit')).toBeEnabled();
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(onSubmitted).toHaveBeenCalled());
  const [base, input, key] = submit.mock.calls[0];
  expect(base).toBe('http://s');
  expect(input).toMatchObject({ content: photo, preset: 3, engine: 'fast', strength: 1, size: 512, style: null });
  expect(key).toMatch(/^app-/);
  expect(onSubmitted.mock.calls[0][0]).toMatchObject({ id: 'job1', kind: 'stylize', styleName: 'Wave', preset: 3, status: 'queued' });
});

test('a failed submit shows the error; Try again resends with the same key (no duplicate job)', async () => {
  const submit = jest.spyOn(api, 'submitStylize')
    .mockRejectedValueOnce(new api.ApiError(0, 'network', 'The server http://s is unreachable.'))
    .mockResolvedValueOnce(job('queued'));
  const onSubmitted = jest.fn();
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={onSubmitted} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(screen.getByTestId('submit-error')).toHaveTextContent(/unreachable/));
  fireEvent.press(screen.getByTestId('submit-error-retry'));
  await waitFor(() => expect(onSubmitted).toHaveBeenCalled());
  expect(submit.mock.calls[1][2]).toBe(submit.mock.calls[0][2]);
  expect(screen.queryByTestId('submit-error')).toBeNull();
});

test('a queue-full answer says when to retry', async () => {
  jest.spyOn(api, 'submitStylize').mockRejectedValue(new api.ApiError(429, 'queue_full', 'the queue is full', 30));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(screen.getByTestId('submit-error')).toHaveTextContent(/the queue is full \(retry in 30 s\)/));
});

test('Best quality hides the strength slider and offers steps in the folded advanced options', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  expect(screen.getByTestId('strength')).toBeTruthy();
  fireEvent.press(screen.getByTestId('engine-gatys'));
  expect(screen.queryByTestId('strength')).toBeNull();
  expect(screen.queryByTestId('steps')).toBeNull(); // folded away
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  fireEvent.changeText(screen.getByTestId('steps'), '40x');
  fireEvent.press(screen.getByTestId('size-256'));
  await pickPhoto();
  // presets are trained networks for Fast: Best quality needs a style image
  expect(screen.getByTestId('needs-own-style')).toBeTruthy();
  expect(screen.getByTestId('submit')).toBeDisabled();
  expect(screen.getByTestId('submit-hint')).toHaveTextContent('Best quality needs your own style image.');
  const style = { uri: 'file:///s.png', name: 's.png', type: 'image/png' };
  (images.pickImage as jest.Mock).mockResolvedValueOnce(style);
  fireEvent.press(screen.getByTestId('style-pick'));
  await waitFor(() => expect(screen.getByTestId('submit')).toBeEnabled());
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ engine: 'gatys', steps: 40, size: 256, style, preset: null });
});

test('the strength slider steps with its buttons and is adjustable for screen readers', () => {
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  fireEvent.press(screen.getByTestId('strength-down'));
  fireEvent.press(screen.getByTestId('strength-down'));
  expect(screen.getByTestId('strength')).toHaveAccessibilityValue({ now: 90 });
  fireEvent(screen.getByTestId('strength'), 'accessibilityAction', { nativeEvent: { actionName: 'increment' } });
  expect(screen.getByTestId('strength')).toHaveAccessibilityValue({ now: 95 });
});

test('styles that fail to load show an error with retry; loading shows a spinner', () => {
  const reload = jest.fn();
  const { rerender } = render(<StylizeScreen base="http://s" styles={stylesState({ presets: [], error: 'The server http://s is unreachable.', reload })} onSubmitted={jest.fn()} />);
  expect(screen.getByTestId('styles-error')).toHaveTextContent(/Could not load the styles/);
  fireEvent.press(screen.getByTestId('styles-error-retry'));
  expect(reload).toHaveBeenCalled();
  rerender(<StylizeScreen base="http://s" styles={stylesState({ presets: [], loading: true })} onSubmitted={jest.fn()} />);
  expect(screen.getByTestId('styles-loading')).toBeTruthy();
});

test('an own style image replaces the preset in the request', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-3'));
  const style = { uri: 'file:///s.png', name: 's.png', type: 'image/png' };
  (images.pickImage as jest.Mock).mockResolvedValueOnce(style);
  fireEvent.press(screen.getByTestId('style-pick'));
  await waitFor(() => expect(screen.getByTestId('style-image')).toBeTruthy());
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ style, preset: null });
});

test('a denied photo permission is shown, not swallowed', async () => {
  (images.pickImage as jest.Mock).mockRejectedValueOnce(new Error('Photo access is off.'));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  fireEvent.press(screen.getByTestId('content-pick'));
  await waitFor(() => expect(screen.getByTestId('submit-error')).toHaveTextContent('Photo access is off.'));
});

test('bad input offers no "Try again": the error says what to change, and the field keeps its value', async () => {
  const e = fixtures.errorImage.error;
  jest.spyOn(api, 'submitStylize').mockRejectedValue(new api.ApiError(415, e.code, e.message));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(screen.getByTestId('submit-error')).toHaveTextContent(/^Your photo: .*Pick a JPEG, PNG or WebP image\./));
  expect(screen.queryByTestId('submit-error-retry')).toBeNull();
});

test('Steps shows its range and refuses 20000 instead of cutting it to 2000', async () => {
  const submit = jest.spyOn(api, 'submitStylize');
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('engine-gatys'));
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  expect(screen.getByText(/Steps, 1 to 1000/)).toBeTruthy();
  fireEvent.changeText(screen.getByTestId('steps'), '20000');
  expect(screen.getByTestId('steps').props.value).toBe('20000');
  expect(screen.getByTestId('steps-error')).toHaveTextContent('Steps must be from 1 to 1000, not 20000.');
  expect(screen.getByTestId('submit')).toBeDisabled();
  fireEvent.press(screen.getByTestId('submit'));
  expect(submit).not.toHaveBeenCalled();
  fireEvent.changeText(screen.getByTestId('steps'), '200');
  expect(screen.queryByTestId('steps-error')).toBeNull();
});

test('a picked file that is not an image is reported at once', async () => {
  (images.pickImage as jest.Mock).mockRejectedValueOnce(new Error('"notes.jpg" is not an image this app can read. Pick a photo (JPEG, PNG or WebP).'));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  fireEvent.press(screen.getByTestId('content-pick'));
  await waitFor(() => expect(screen.getByTestId('submit-error')).toHaveTextContent(/notes.jpg" is not an image/));
  expect(screen.queryByTestId('submit-error-retry')).toBeNull();
});

test('run again after a reload: the settings come back and the notice says the photo must be picked again', async () => {
  const { rerender } = render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  rerender(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()}
    draft={{ nonce: 1, content: null, preset: 3, engine: 'fast', notice: 'Your photo could not be kept: pick it again.' }} />);
  expect(screen.getByTestId('draft-notice')).toHaveTextContent(/pick it again/);
  expect(screen.getByTestId('preset-3')).toBeChecked();
  await pickPhoto();
  expect(screen.queryByTestId('draft-notice')).toBeNull();
});

test('the vintage photo model (GET /api/generators) is a third engine: no style needed, model sent', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  const onSubmitted = jest.fn();
  const models = fixtures.generators.translate;
  render(<StylizeScreen base="http://s" styles={stylesState({ models })} onSubmitted={onSubmitted} />);
  await pickPhoto();
  expect(screen.getByTestId('engine-translate')).toHaveTextContent(/Vintage photo/);
  fireEvent.press(screen.getByTestId('engine-translate'));
  expect(screen.getByTestId('translate-note')).toHaveTextContent(/photo -> vintage photo/);
  expect(screen.queryByTestId('preset-0')).toBeNull();
  expect(screen.getByTestId('submit')).toBeEnabled();
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(onSubmitted).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toEqual({ content: photo, engine: 'translate', model: 'vintage', size: 512, upscale: 1 });
  expect(onSubmitted.mock.calls[0][0]).toMatchObject({ engine: 'translate', model: 'vintage', styleName: 'Vintage photo' });
});

test('no translate models on the server: no third engine', () => {
  render(<StylizeScreen base="http://s" styles={stylesState({ models: [] })} onSubmitted={jest.fn()} />);
  expect(screen.queryByTestId('engine-translate')).toBeNull();
});

test('a preset starts at its own default strength (the server\'s)', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  const presets = [{ id: 5, name: 'Soft', thumbnail: 'http://s/api/styles/5.jpg', strength: 0.6 }];
  render(<StylizeScreen base="http://s" styles={stylesState({ presets })} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-5'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ preset: 5, strength: 0.6 });
});

test('Keep the photo\'s colours is sent as preserve_color', async () => {
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  render(<StylizeScreen base="http://s" styles={stylesState()} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('preset-0'));
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  fireEvent.press(screen.getByTestId('preserve-color'));
  expect(screen.getByTestId('preserve-color')).toBeChecked();
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ preserveColor: true });
});

test('Best quality\'s more settings come from the server\'s contract, are checked by its ranges and sent', async () => {
  const { parseContract } = require('../src/lib/contract');
  const contract = parseContract(fixtures.contract);
  const submit = jest.spyOn(api, 'submitStylize').mockResolvedValue(job('queued'));
  const style = { uri: 'file:///s.png', name: 's.png', type: 'image/png', width: 90, height: 90 };
  render(<StylizeScreen base="http://s" styles={stylesState({ contract })} onSubmitted={jest.fn()} />);
  await pickPhoto();
  fireEvent.press(screen.getByTestId('engine-gatys'));
  (images.pickImage as jest.Mock).mockResolvedValueOnce(style);
  fireEvent.press(screen.getByTestId('style-pick'));
  await waitFor(() => expect(screen.getByLabelText('Your style image')).toBeTruthy());
  fireEvent.press(screen.getByTestId('advanced-toggle'));
  fireEvent.changeText(screen.getByTestId('field-style_scale'), '9');
  expect(screen.getByTestId('field-style_scale-error')).toHaveTextContent('Style scale must be from 0.1 to 4, not 9.');
  expect(screen.getByTestId('submit')).toBeDisabled();
  fireEvent.changeText(screen.getByTestId('field-style_scale'), '1.5');
  fireEvent.press(screen.getByTestId('field-init-noise'));
  fireEvent.press(screen.getByTestId('submit'));
  await waitFor(() => expect(submit).toHaveBeenCalled());
  expect(submit.mock.calls[0][1]).toMatchObject({ engine: 'gatys', extra: { style_scale: '1.5', init: 'noise' } });
});

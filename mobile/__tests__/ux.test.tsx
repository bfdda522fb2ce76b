import { render, screen, fireEvent, waitFor } from '@testing-library/react-native';
import React from 'react';
import { Platform } from 'react-native';
import * as api from '../src/lib/api';
import { grid, moveKey, TILE } from '../src/components/PresetGallery';
import ServerImage from '../src/components/ServerImage';
import { addSample, recentEta } from '../src/lib/eta';
import { prepare } from '../src/lib/images';
import { fileName } from '../src/lib/names';
import SettingsScreen, { openInSnack } from '../src/screens/SettingsScreen';

const os = Platform.OS;
afterEach(() => { (Platform as any).OS = os; api.setApiKey(null); jest.restoreAllMocks(); });

test('ETA from the recent rate, not the average since the start', () => {
  // 10 s per step for the first 15 steps, then 20 s per step: at step 20 of 100 the recent rate says 80 * 20 s.
  let list: { t: number; step: number }[] = [];
  for (let step = 1; step <= 15; step++) list = addSample(list, { t: step * 10000, step });
  for (let step = 16; step <= 20; step++) list = addSample(list, { t: 150000 + (step - 15) * 20000, step });
  expect(recentEta(list, 100)).toBeCloseTo(80 * 20, 0);
  // the server's average since the start would say about 80 * 12.5 s
  expect(recentEta(list.slice(0, 1), 100)).toBeNull();
  expect(addSample(list, { t: 1, step: 3 })).toEqual([{ t: 1, step: 3 }]); // a restart starts over
});

test('downloads are named from the style and the date', () => {
  const createdAt = new Date(2026, 0, 2, 3, 4).getTime();
  expect(fileName({ kind: 'stylize', styleName: 'The Great Wave', createdAt })).toBe('neural-art_the-great-wave_2026-01-02_0304.png');
  expect(fileName({ kind: 'portrait', styleName: 'Candy', seed: 42, createdAt })).toBe('neural-art_portrait-42-candy_2026-01-02_0304.png');
});

test('the preset grid fills the row, and its keys move like a radio group', () => {
  expect(grid(390 - 2 * 16 - 2 * 16)).toEqual({ cols: 3, tile: 103 });
  const { cols, tile } = grid(728);
  expect(cols * tile + (cols - 1) * 8).toBeLessThanOrEqual(728);
  expect(728 - (cols * tile + (cols - 1) * 8)).toBeLessThan(cols); // no empty strip
  expect(tile).toBeGreaterThanOrEqual(TILE);
  expect([moveKey('ArrowRight', 25, 26, 8), moveKey('ArrowLeft', 0, 26, 8), moveKey('ArrowDown', 3, 26, 8),
    moveKey('ArrowUp', 3, 26, 8), moveKey('End', 0, 26, 8), moveKey('a', 0, 26, 8)]).toEqual([0, 25, 11, 0, 25, null]);
});

test('a picked file that is not a readable image is refused when picked', async () => {
  await expect(prepare({ uri: 'blob:x', width: 0, height: 0, mimeType: 'image/jpeg', fileName: 'notes.jpg' } as any))
    .rejects.toThrow('"notes.jpg" is not an image this app can read');
  await expect(prepare({ uri: 'blob:x', width: 10, height: 10, mimeType: 'application/pdf' } as any)).rejects.toThrow(/not an image/);
});

test('server images carry the API key: headers on a phone', () => {
  (Platform as any).OS = 'ios';
  api.setApiKey('k1');
  render(<ServerImage testID="img" uri="http://s/api/jobs/j/result" />);
  expect(screen.getByTestId('img').props.source).toEqual({ uri: 'http://s/api/jobs/j/result', headers: { Authorization: 'Bearer k1' } });
});

test('server images carry the API key: fetched as a blob on the web', async () => {
  (Platform as any).OS = 'web';
  api.setApiKey('k1');
  global.fetch = jest.fn(async () => ({ ok: true, status: 200, blob: async () => 'B' })) as any;
  (global.URL as any).createObjectURL = jest.fn(() => 'blob:u/1');
  (global.URL as any).revokeObjectURL = jest.fn();
  render(<ServerImage testID="img" uri="http://s/api/jobs/j/result" />);
  await waitFor(() => expect(screen.getByTestId('img').props.source).toEqual({ uri: 'blob:u/1' }));
  expect((global.fetch as jest.Mock).mock.calls[0]).toEqual(['http://s/api/jobs/j/result', { headers: { Authorization: 'Bearer k1' } }]);
});

test('Settings saves the API key with the server', async () => {
  const onSave = jest.fn().mockResolvedValue(undefined);
  const onSaveKey = jest.fn().mockResolvedValue(undefined);
  render(<SettingsScreen base="http://s:5000" onSave={onSave} onSaveKey={onSaveKey} />);
  fireEvent.changeText(screen.getByTestId('api-key'), 'secret-1');
  fireEvent.press(screen.getByTestId('server-save'));
  await waitFor(() => expect(screen.getByTestId('settings-note')).toHaveTextContent('Saved: http://s:5000 · with an API key'));
  expect(onSaveKey).toHaveBeenCalledWith('secret-1');
});

const snackForm: api.SnackForm = {
  url: 'https://snack.expo.dev', method: 'POST', server: 'http://192.168.1.20:5000',
  fields: { name: 'Neural Art', sdkVersion: '56.0.0', dependencies: 'expo-image-picker@56.0.25', files: '{"App.tsx":{"type":"CODE","contents":"x"}}' },
};

test('Open in Expo Snack (web): loads the form, then the click posts it as an HTML form', async () => {
  (Platform as any).OS = 'web';
  const get = jest.spyOn(api, 'getSnack').mockResolvedValue(snackForm);
  const made: any[] = [];
  const el = () => { const o: any = { style: {}, children: [] as any[], appendChild: (c: any) => o.children.push(c), submit: jest.fn(), remove: jest.fn() }; made.push(o); return o; };
  (global as any).document = { createElement: jest.fn(el), body: { appendChild: jest.fn() } };
  try {
    render(<SettingsScreen base="http://s:5000" onSave={jest.fn()} />);
    await waitFor(() => expect(screen.getByTestId('open-snack')).toBeEnabled());
    expect(get).toHaveBeenCalledWith('http://s:5000');
    fireEvent.press(screen.getByTestId('open-snack'));
  } finally {
    delete (global as any).document;
  }
  const form = made[0];
  expect([form.method, form.action, form.target]).toEqual(['POST', 'https://snack.expo.dev', '_blank']);
  expect(Object.fromEntries(form.children.map((i: any) => [i.name, i.value]))).toEqual(snackForm.fields);
  expect(form.submit).toHaveBeenCalled();
  expect(screen.getByTestId('snack-note')).toHaveTextContent(/scan its QR code with Expo Go/);
});

test('Open in Expo Snack shows the server\'s warning when it found no address', async () => {
  (Platform as any).OS = 'web';
  jest.spyOn(api, 'getSnack').mockResolvedValue({ ...snackForm, server: null, warning: 'no LAN address found: set PUBLIC_URL' });
  render(<SettingsScreen base="http://s:5000" onSave={jest.fn()} />);
  await waitFor(() => expect(screen.getByTestId('snack-warning')).toHaveTextContent(/set PUBLIC_URL/));
});

test('openInSnack is not offered in the native app (it is the Snack)', () => {
  (Platform as any).OS = 'ios';
  render(<SettingsScreen base="http://s:5000" onSave={jest.fn()} />);
  expect(screen.queryByTestId('open-snack')).toBeNull();
  expect(typeof openInSnack).toBe('function');
});

test('the contract (recorded GET /api/openapi.json): ranges and defaults per engine, extra fields for Best quality', () => {
  const { parseContract, extraFields, fieldProblem } = require('../src/lib/contract');
  const c = parseContract(require('./fixtures/contract.json'));
  expect(c.stylize.gatys.steps).toMatchObject({ type: 'integer', min: 1, max: 1000 });
  expect(typeof c.stylize.gatys.steps.default).toBe('number');
  const names = extraFields(c.stylize, 'gatys', false).map((f: any) => f.name);
  expect(names).toEqual(expect.arrayContaining(['content_weight', 'style_weight', 'tv_weight', 'init', 'style_scale', 'seed']));
  expect(names).not.toContain('steps');
  expect(extraFields(c.stylize, 'fast')).toEqual([]); // Fast's fields all have their own controls
  expect(c.stylize.gatys.init.choices).toEqual(expect.arrayContaining(['content', 'noise', 'style']));
  expect(fieldProblem(c.stylize.gatys.style_scale, '9')).toBe('Style scale must be from 0.1 to 4, not 9');
  expect(fieldProblem(c.stylize.gatys.seed, '1.5')).toMatch(/whole number/);
  expect(fieldProblem(c.stylize.gatys.content_weight, '-1')).toBe('Content weight must be 0 or more, not -1');
  expect(fieldProblem(c.stylize.gatys.init, 'noise')).toBeNull();
  expect(Object.keys(c.portrait)).toEqual(expect.arrayContaining(['fast']));
});

import * as Sharing from 'expo-sharing';
import { Platform } from 'react-native';
import { saveResult, shareResult } from '../src/lib/actions';
import * as api from '../src/lib/api';

jest.mock('expo-media-library/legacy', () => ({ requestPermissionsAsync: jest.fn(), saveToLibraryAsync: jest.fn() }));
jest.mock('expo-sharing', () => ({ isAvailableAsync: jest.fn(), shareAsync: jest.fn() }));
const MediaLibrary = require('expo-media-library/legacy');

const os = Platform.OS;
afterEach(() => { (Platform as any).OS = os; jest.restoreAllMocks(); jest.clearAllMocks(); });

test('native save: asks for write access, downloads the PNG, saves it to the photos', async () => {
  (Platform as any).OS = 'android';
  jest.spyOn(api, 'downloadResult').mockResolvedValue('file:///cache/neural-art-j.png');
  MediaLibrary.requestPermissionsAsync.mockResolvedValue({ granted: true });
  expect(await saveResult('http://s', 'j')).toBe('Saved to your photos.');
  expect(MediaLibrary.requestPermissionsAsync).toHaveBeenCalledWith(true);
  expect(MediaLibrary.saveToLibraryAsync).toHaveBeenCalledWith('file:///cache/neural-art-j.png');
});

test('native save without permission: a clear error, nothing saved', async () => {
  (Platform as any).OS = 'ios';
  const dl = jest.spyOn(api, 'downloadResult');
  MediaLibrary.requestPermissionsAsync.mockResolvedValue({ granted: false });
  await expect(saveResult('http://s', 'j')).rejects.toThrow(/Photo access is off/);
  expect(dl).not.toHaveBeenCalled();
  expect(MediaLibrary.saveToLibraryAsync).not.toHaveBeenCalled();
});

test('web save: fetched (with the key when set) and saved from a blob under our name, not the job id', async () => {
  (Platform as any).OS = 'web';
  const a: any = { click: jest.fn(), remove: jest.fn() };
  (global as any).document = { createElement: jest.fn(() => a), body: { appendChild: jest.fn() } };
  global.fetch = jest.fn(async () => ({ ok: true, status: 200, blob: async () => 'BLOB' })) as any;
  const made = jest.fn(() => 'blob:x/1');
  const URLs: any = global.URL;
  URLs.createObjectURL = made;
  URLs.revokeObjectURL = jest.fn();
  api.setApiKey('k');
  try {
    expect(await saveResult('http://other', 'j', 'n.png')).toBe('Download started: n.png');
  } finally {
    api.setApiKey(null);
    delete (global as any).document;
  }
  expect((global.fetch as jest.Mock).mock.calls[0]).toEqual(['http://other/api/jobs/j/result', { headers: { Authorization: 'Bearer k' } }]);
  expect([a.href, a.download]).toEqual(['blob:x/1', 'n.png']);
});

test('native share: the downloaded PNG through the share sheet; unavailable sharing is an error', async () => {
  (Platform as any).OS = 'ios';
  jest.spyOn(api, 'downloadResult').mockResolvedValue('file:///cache/x.png');
  (Sharing.isAvailableAsync as jest.Mock).mockResolvedValueOnce(true).mockResolvedValueOnce(false);
  expect(await shareResult('http://s', 'j')).toBe('Shared.');
  expect(Sharing.shareAsync).toHaveBeenCalledWith('file:///cache/x.png', expect.objectContaining({ mimeType: 'image/png' }));
  await expect(shareResult('http://s', 'j')).rejects.toThrow(/not available/);
});

test('web share: the Web Share API when there, else the link is copied', async () => {
  (Platform as any).OS = 'web';
  const nav: any = global.navigator;
  const share = jest.fn().mockResolvedValue(undefined);
  Object.defineProperty(global, 'navigator', { value: { share }, configurable: true });
  expect(await shareResult('http://s', 'j')).toBe('Shared.');
  expect(share).toHaveBeenCalledWith({ title: 'Neural art', url: 'http://s/api/jobs/j/result' });
  const writeText = jest.fn().mockResolvedValue(undefined);
  Object.defineProperty(global, 'navigator', { value: { clipboard: { writeText } }, configurable: true });
  expect(await shareResult('http://s', 'j')).toBe('Link copied.');
  expect(writeText).toHaveBeenCalledWith('http://s/api/jobs/j/result');
  Object.defineProperty(global, 'navigator', { value: nav, configurable: true });
});

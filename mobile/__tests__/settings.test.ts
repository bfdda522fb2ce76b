import AsyncStorage from '@react-native-async-storage/async-storage';
import { Platform } from 'react-native';
import { defaultServer, FALLBACK_SERVER, loadServer, normalizeServer, saveServer } from '../src/lib/settings';

const env = process.env.EXPO_PUBLIC_API_URL;
const os = Platform.OS;
beforeEach(() => AsyncStorage.clear());
afterEach(() => {
  if (env === undefined) delete process.env.EXPO_PUBLIC_API_URL; else process.env.EXPO_PUBLIC_API_URL = env;
  (Platform as any).OS = os;
});

test('normalizeServer adds a scheme, drops trailing slashes, rejects junk', () => {
  expect(normalizeServer(' 192.168.1.20:5000/ ')).toBe('http://192.168.1.20:5000');
  expect(normalizeServer('https://art.example.org/base/')).toBe('https://art.example.org/base');
  expect(() => normalizeServer('')).toThrow(/server address/);
  expect(() => normalizeServer('http://has space')).toThrow(/not a server address/);
});

test('default: EXPO_PUBLIC_API_URL when set, else the fallback on a phone', () => {
  process.env.EXPO_PUBLIC_API_URL = 'http://10.1.2.3:5000/';
  expect(defaultServer()).toBe('http://10.1.2.3:5000');
  delete process.env.EXPO_PUBLIC_API_URL;
  (Platform as any).OS = 'ios';
  expect(defaultServer()).toBe(FALLBACK_SERVER);
});

test('default on web: the page origin', () => {
  delete process.env.EXPO_PUBLIC_API_URL;
  (Platform as any).OS = 'web';
  const had = (global as any).window;
  (global as any).window = { location: { origin: 'http://127.0.0.1:5123' } };
  try {
    expect(defaultServer()).toBe('http://127.0.0.1:5123');
  } finally {
    (global as any).window = had;
  }
});

test('a saved server wins over the default and survives a restart; null goes back to the default', async () => {
  delete process.env.EXPO_PUBLIC_API_URL;
  (Platform as any).OS = 'android';
  expect(await saveServer('192.168.0.5:5000')).toBe('http://192.168.0.5:5000');
  expect(await loadServer()).toBe('http://192.168.0.5:5000');
  expect(await saveServer(null)).toBe(FALLBACK_SERVER);
  expect(await loadServer()).toBe(FALLBACK_SERVER);
});

test('the API key is stored like the server URL; spaces are refused', async () => {
  const { loadApiKey, saveApiKey } = require('../src/lib/settings');
  expect(await loadApiKey()).toBe('');
  expect(await saveApiKey(' k-1 ')).toBe('k-1');
  expect(await loadApiKey()).toBe('k-1');
  await expect(saveApiKey('Bearer k-1')).rejects.toThrow(/no spaces/);
  expect(await saveApiKey('')).toBe('');
  expect(await loadApiKey()).toBe('');
});

test('in Snack the server filled in by GET /api/snack is the default (after EXPO_PUBLIC_API_URL)', () => {
  jest.resetModules();
  jest.doMock('../src/lib/snack', () => ({ SNACK_SERVER: 'http://192.168.1.20:5000' }));
  const s = require('../src/lib/settings');
  delete process.env.EXPO_PUBLIC_API_URL;
  (Platform as any).OS = 'web'; // even on Snack's web preview, whose origin is Snack's
  expect(s.defaultServer()).toBe('http://192.168.1.20:5000');
  jest.dontMock('../src/lib/snack');
});

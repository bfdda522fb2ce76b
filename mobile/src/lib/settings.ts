// The server URL: what the user saved, else EXPO_PUBLIC_API_URL, else the address the server filled in when it
// opened this app in Expo Snack, else (on web) the page's own origin. The API key: what the user saved, else none.
import AsyncStorage from '@react-native-async-storage/async-storage';
import { Platform } from 'react-native';
import { SNACK_SERVER } from './snack';

export const SERVER_KEY = 'neural-art.server.v1';
export const API_KEY_KEY = 'neural-art.apikey.v1';
export const FALLBACK_SERVER = 'http://localhost:5000';

/** EXPO_PUBLIC_API_URL, inlined by the Expo CLI's build; Snack has no such build step (and maybe no `process`). */
function envServer(): string | undefined {
  try {
    return process.env.EXPO_PUBLIC_API_URL || undefined;
  } catch {
    return undefined;
  }
}

export function defaultServer(): string {
  const env = envServer();
  if (env) return normalizeServer(env);
  if (SNACK_SERVER) return normalizeServer(SNACK_SERVER);
  if (Platform.OS === 'web' && typeof window !== 'undefined' && window.location?.origin?.startsWith('http')) {
    return window.location.origin;
  }
  return FALLBACK_SERVER;
}

/** Trims, adds http:// when no scheme is given, drops trailing slashes. Throws on what is not a URL. */
export function normalizeServer(raw: string): string {
  let url = raw.trim();
  if (!url) throw new Error('Enter the server address, e.g. http://192.168.1.20:5000');
  if (!/^https?:\/\//i.test(url)) url = 'http://' + url;
  url = url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(url)) {
    throw new Error(`"${raw.trim()}" is not a server address (expected e.g. http://192.168.1.20:5000)`);
  }
  return url;
}

export async function loadServer(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(SERVER_KEY)) || defaultServer();
  } catch {
    return defaultServer();
  }
}

export async function saveServer(url: string | null): Promise<string> {
  if (url === null) {
    await AsyncStorage.removeItem(SERVER_KEY);
    return defaultServer();
  }
  const clean = normalizeServer(url);
  await AsyncStorage.setItem(SERVER_KEY, clean);
  return clean;
}

export async function loadApiKey(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(API_KEY_KEY)) || '';
  } catch {
    return '';
  }
}

/** Saves the key ('' or null removes it); returns what is stored. */
export async function saveApiKey(key: string | null): Promise<string> {
  const clean = (key ?? '').trim();
  if (/\s/.test(clean)) throw new Error('An API key has no spaces: paste only the key, without "Bearer".');
  if (clean) await AsyncStorage.setItem(API_KEY_KEY, clean);
  else await AsyncStorage.removeItem(API_KEY_KEY);
  return clean;
}

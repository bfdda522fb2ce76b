// The server URL: what the user saved, else EXPO_PUBLIC_API_URL, else (on web) the page's own origin.
import AsyncStorage from '@react-native-async-storage/async-storage';
import { Platform } from 'react-native';

export const SERVER_KEY = 'neural-art.server.v1';
export const FALLBACK_SERVER = 'http://localhost:5000';

export function defaultServer(): string {
  const env = process.env.EXPO_PUBLIC_API_URL;
  if (env) return normalizeServer(env);
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

// Past jobs, newest first, kept in AsyncStorage so a running job can be resumed after the app restarts.
import AsyncStorage from '@react-native-async-storage/async-storage';
import type { Engine, Picked, Status } from './api';

export const HISTORY_KEY = 'neural-art.history.v1';
export const HISTORY_MAX = 50;

export type Entry = {
  id: string;
  kind: 'stylize' | 'portrait';
  base: string; // the server that ran it
  createdAt: number; // epoch ms
  status: Status;
  engine: Engine;
  preset?: number | null;
  styleName?: string;
  strength?: number;
  size?: number;
  steps?: number | null;
  seed?: number | null; // a portrait's generated face; null: painted from the user's photo (content)
  model?: string | null; // engine=translate
  upscale?: 1 | 2 | 4;
  content?: Picked | null; // uri/name/type only (a web File does not survive a reload)
  style?: Picked | null;
  error?: string | null;
};

/** Drops what cannot be stored (the web File/Blob). */
function storable(p?: Picked | null): Picked | null {
  if (!p) return null;
  const { file, ...rest } = p;
  return rest;
}

/** Inserts or replaces by id, newest first, capped. */
export function upsert(list: Entry[], entry: Entry): Entry[] {
  const rest = list.filter((e) => e.id !== entry.id);
  return [entry, ...rest].sort((a, b) => b.createdAt - a.createdAt).slice(0, HISTORY_MAX);
}

export async function loadHistory(): Promise<Entry[]> {
  try {
    const raw = await AsyncStorage.getItem(HISTORY_KEY);
    const list = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list.filter((e) => e && typeof e.id === 'string') : [];
  } catch {
    return []; // unreadable history is not worth crashing for
  }
}

export async function saveHistory(list: Entry[]): Promise<void> {
  const clean = list.map((e) => ({ ...e, content: storable(e.content), style: storable(e.style) }));
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify(clean));
}

export async function clearHistory(): Promise<void> {
  await AsyncStorage.removeItem(HISTORY_KEY);
}

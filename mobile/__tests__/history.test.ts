import AsyncStorage from '@react-native-async-storage/async-storage';
import { clearHistory, Entry, HISTORY_KEY, HISTORY_MAX, loadHistory, saveHistory, upsert } from '../src/lib/history';

const entry = (id: string, createdAt: number, extra: Partial<Entry> = {}): Entry => ({
  id, kind: 'stylize', base: 'http://s', createdAt, status: 'running', engine: 'fast', ...extra,
});

beforeEach(() => AsyncStorage.clear());

test('upsert keeps newest first, replaces by id, and caps the list', () => {
  let list = upsert([], entry('a', 1));
  list = upsert(list, entry('b', 2));
  list = upsert(list, { ...entry('a', 1), status: 'succeeded' });
  expect(list.map((e) => [e.id, e.status])).toEqual([['b', 'running'], ['a', 'succeeded']]);
  for (let i = 0; i < HISTORY_MAX + 5; i++) list = upsert(list, entry(`x${i}`, 10 + i));
  expect(list).toHaveLength(HISTORY_MAX);
  expect(list[0].id).toBe(`x${HISTORY_MAX + 4}`);
});

test('history survives a restart (save, then load from storage)', async () => {
  const none = { content: null, style: null };
  const list = [entry('b', 2, { status: 'succeeded', preset: 4, ...none }), entry('a', 1, { kind: 'portrait', seed: 7, ...none })];
  await saveHistory(list);
  expect(await loadHistory()).toEqual(list);
});

test('a web File is not stored (it cannot survive a reload); uri, name and type are', async () => {
  const file = new Blob(['x']);
  await saveHistory([entry('a', 1, { content: { uri: 'blob:x', name: 'a.jpg', type: 'image/jpeg', file } })]);
  const raw = JSON.parse((await AsyncStorage.getItem(HISTORY_KEY))!);
  expect(raw[0].content).toEqual({ uri: 'blob:x', name: 'a.jpg', type: 'image/jpeg' });
});

test('empty or corrupt storage loads as an empty history', async () => {
  expect(await loadHistory()).toEqual([]);
  await AsyncStorage.setItem(HISTORY_KEY, '{not json');
  expect(await loadHistory()).toEqual([]);
  await AsyncStorage.setItem(HISTORY_KEY, JSON.stringify([{ nope: 1 }, entry('a', 1)]));
  expect((await loadHistory()).map((e) => e.id)).toEqual(['a']);
});

test('clearHistory empties it', async () => {
  await saveHistory([entry('a', 1)]);
  await clearHistory();
  expect(await loadHistory()).toEqual([]);
});

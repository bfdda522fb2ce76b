import { Platform } from 'react-native';
import * as api from '../src/lib/api';
import { fixtures } from './helpers';

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return Promise.resolve({
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (k: string) => headers[k] ?? null },
    json: () => (body === undefined ? Promise.reject(new Error('no json')) : Promise.resolve(body)),
  } as any);
}

// The FormData React Native uses on a phone (jest's global one is Node's, which stringifies {uri} parts).
const RNFormData = require('react-native/Libraries/Network/FormData').default;
(global as any).FormData = RNFormData;

const content: api.Picked = { uri: 'file:///tmp/a.jpg', name: 'a.jpg', type: 'image/jpeg' };

afterEach(() => {
  jest.restoreAllMocks();
  (global as any).fetch = undefined;
});

test('absolute resolves server-relative paths and keeps absolute ones', () => {
  expect(api.absolute('http://h:5000/', '/api/jobs/1')).toBe('http://h:5000/api/jobs/1');
  expect(api.absolute('http://h:5000', 'api/styles')).toBe('http://h:5000/api/styles');
  expect(api.absolute('http://h', 'https://cdn/x.jpg')).toBe('https://cdn/x.jpg');
});

test('getStyles accepts {styles: [...]} and resolves thumbnail URLs against the server', async () => {
  global.fetch = jest.fn(() => respond(200, { styles: [{ id: 3, name: 'Wave', thumbnail: '/api/styles/3.jpg' }], count: 1 })) as any;
  expect(await api.getStyles('http://srv:5000')).toEqual([{ id: 3, name: 'Wave', thumbnail: 'http://srv:5000/api/styles/3.jpg' }]);
  expect((global.fetch as jest.Mock).mock.calls[0][0]).toBe('http://srv:5000/api/styles');
});

test('getStyles reads the recorded answer: thumbnails are the route that exists (/api/styles/<id>.jpg)', async () => {
  global.fetch = jest.fn(() => respond(200, fixtures.styles)) as any;
  const list = await api.getStyles('http://srv');
  expect(list).toHaveLength(fixtures.styles.count);
  expect(list[3]).toEqual({ id: 3, name: fixtures.styles.styles[3].name, thumbnail: 'http://srv/api/styles/3.jpg',
    strength: fixtures.styles.styles[3].strength });
  expect(list.map((p) => p.name)).not.toContain('Style 3'); // the server's preset names
});

test('every request sends the API key as a Bearer token once set', async () => {
  global.fetch = jest.fn(() => respond(200, fixtures.health)) as any;
  api.setApiKey(' k-123 ');
  try {
    await api.health('http://srv');
    await api.getJob('http://srv', 'j');
    for (const c of (global.fetch as jest.Mock).mock.calls) expect(c[1].headers).toEqual({ Authorization: 'Bearer k-123' });
  } finally {
    api.setApiKey(null);
  }
  await api.health('http://srv');
  expect((global.fetch as jest.Mock).mock.calls[2][1].headers).toEqual({});
});

test('explain says what to change for bad input, and which errors are worth sending again', () => {
  const steps = new api.ApiError(422, fixtures.errorSteps.error.code, fixtures.errorSteps.error.message, null, fixtures.errorSteps.error.field);
  expect(api.explain(steps)).toMatch(/^Steps \(Advanced options\): must be .* 1 to 1000.*Change it/);
  expect(api.transient(steps)).toBe(false);
  const img = new api.ApiError(415, fixtures.errorImage.error.code, fixtures.errorImage.error.message);
  expect(api.explain(img)).toMatch(/^Your photo: not an image.*Pick a JPEG, PNG or WebP image\.$/);
  expect(api.transient(new api.ApiError(0, 'network', 'x'))).toBe(true);
  expect(api.transient(new api.ApiError(429, 'queue_full', 'x', 30))).toBe(true);
  expect(api.explain(new api.ApiError(401, 'unauthorized', 'a valid API key is required'))).toMatch(/API key in Settings/);
});

test('an error answer becomes ApiError with the server code, message and Retry-After', async () => {
  global.fetch = jest.fn(() => respond(429, { error: { code: 'queue_full', message: 'the queue is full' } }, { 'Retry-After': '30' })) as any;
  const err = await api.getJob('http://srv', 'abc').catch((e) => e);
  expect(err).toBeInstanceOf(api.ApiError);
  expect([err.status, err.code, err.message, err.retryAfter]).toEqual([429, 'queue_full', 'the queue is full', 30]);
});

test('Retry-After on a 422 (rate-limit headers ride along) is not a "retry later"', async () => {
  global.fetch = jest.fn(() => respond(422, { error: { code: 'style_or_preset', message: 'x' } }, { 'Retry-After': '60' })) as any;
  const err = await api.getJob('http://srv', 'abc').catch((e) => e);
  expect([err.status, err.retryAfter]).toEqual([422, null]);
});

test('an error answer without JSON still gives a clear ApiError', async () => {
  global.fetch = jest.fn(() => respond(502, undefined)) as any;
  const err = await api.getJob('http://srv', 'abc').catch((e) => e);
  expect([err.status, err.code]).toEqual([502, 'http_502']);
  expect(err.message).toMatch(/502/);
});

test('a network failure is ApiError status 0 naming the server', async () => {
  global.fetch = jest.fn(() => Promise.reject(new TypeError('Network request failed'))) as any;
  const err = await api.getStyles('http://10.0.0.9:5000').catch((e) => e);
  expect(err.status).toBe(0);
  expect(err.code).toBe('network');
  expect(err.message).toContain('http://10.0.0.9:5000');
});

test('submitStylize POSTs multipart with the Idempotency-Key and no hand-set Content-Type', async () => {
  global.fetch = jest.fn(() => respond(202, { id: 'j1', status: 'queued' })) as any;
  const job = await api.submitStylize('http://srv', { content, preset: 7, engine: 'fast', strength: 0.6, size: 384 }, 'key-1');
  expect(job.id).toBe('j1');
  const [url, init] = (global.fetch as jest.Mock).mock.calls[0];
  expect(url).toBe('http://srv/api/stylize');
  expect(init.method).toBe('POST');
  expect(init.headers).toEqual({ 'Idempotency-Key': 'key-1' });
  expect(init.body).toBeInstanceOf(FormData);
});

function fields(form: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of form.getParts()) out[part.fieldName] = part.string ?? { uri: part.uri, name: part.name, type: part.type };
  return out;
}

test('stylize form: preset and strength for fast, no steps', async () => {
  const form = await api.stylizeForm({ content, preset: 7, engine: 'fast', strength: 0.6, size: 384, steps: 50 });
  expect(fields(form)).toEqual({
    content: { uri: content.uri, name: 'a.jpg', type: 'image/jpeg' }, preset: '7', engine: 'fast', size: '384', strength: '0.6',
  });
});

test('stylize form: own style image wins over a preset; gatys sends steps, not strength', async () => {
  const style = { uri: 'file:///s.png', name: 's.png', type: 'image/png' };
  const form = await api.stylizeForm({ content, style, preset: 7, engine: 'gatys', strength: 0.6, size: 512, steps: 40 });
  expect(fields(form)).toEqual({
    content: { uri: content.uri, name: 'a.jpg', type: 'image/jpeg' },
    style: { uri: 'file:///s.png', name: 's.png', type: 'image/png' }, engine: 'gatys', size: '512', steps: '40',
  });
});

test('translate: content, model and size only; print size (upscale) when above 1', async () => {
  const form = await api.stylizeForm({ content, engine: 'translate', model: fixtures.generators.translate[0].name, preset: 3,
    strength: 0.5, size: 512, upscale: 2 });
  expect(fields(form)).toEqual({
    content: { uri: content.uri, name: 'a.jpg', type: 'image/jpeg' }, engine: 'translate', size: '512', upscale: '2', model: 'vintage',
  });
  const plain = await api.stylizeForm({ content, preset: 7, engine: 'fast', size: 256, upscale: 1 });
  expect(fields(plain)).not.toHaveProperty('upscale');
});

test('the translate models and trained generators come from GET /api/generators', async () => {
  global.fetch = jest.fn(() => respond(200, fixtures.generators)) as any;
  const got = await api.getModels('http://srv');
  expect(got.translate).toEqual([expect.objectContaining({ name: 'vintage', direction: fixtures.generators.translate[0].direction })]);
  expect(got.generators).toEqual(fixtures.generators.generators);
  global.fetch = jest.fn(() => respond(200, { ...fixtures.generators, generators: [{ name: 'paintings', family: 'dcgan', size: 64 }] })) as any;
  expect((await api.getModels('http://srv')).generators).toEqual([{ name: 'paintings', size: 64, created: undefined }]);
});

test('preserve_color only when asked; a trained generator with the seed, never with a photo', async () => {
  const on = await api.stylizeForm({ content, preset: 7, engine: 'fast', size: 256, preserveColor: true });
  expect(fields(on)).toMatchObject({ preserve_color: 'true' });
  const off = await api.stylizeForm({ content, preset: 7, engine: 'fast', size: 256, preserveColor: false });
  expect(fields(off)).not.toHaveProperty('preserve_color');
  const face = await api.portraitForm({ seed: 5, generator: 'paintings', preset: 1, engine: 'fast' });
  expect(fields(face)).toMatchObject({ seed: '5', generator: 'paintings' });
  const photo = { uri: 'file:///me.jpg', name: 'me.jpg', type: 'image/jpeg' };
  const mine = await api.portraitForm({ photo, seed: 5, generator: 'paintings', preset: 1, engine: 'fast' });
  expect(fields(mine)).not.toHaveProperty('generator');
  expect(fields(mine)).not.toHaveProperty('seed');
});

test('portrait "From a photo": the photo instead of a seed', async () => {
  const photo = { uri: 'file:///me.jpg', name: 'me.jpg', type: 'image/jpeg' };
  const form = await api.portraitForm({ seed: null, photo, preset: 2, engine: 'fast', size: 256, upscale: 4 });
  expect(fields(form)).toEqual({ photo: { uri: photo.uri, name: 'me.jpg', type: 'image/jpeg' }, preset: '2', engine: 'fast',
    size: '256', upscale: '4' });
});

test('portrait form carries the seed and a preset', async () => {
  const form = await api.portraitForm({ seed: 1234, preset: 2, engine: 'fast', size: 256 });
  expect(fields(form)).toEqual({ seed: '1234', preset: '2', engine: 'fast', size: '256' });
});

describe('upload part shape', () => {
  const original = Platform.OS;
  afterEach(() => { (Platform as any).OS = original; });

  test('native: {uri, name, type} (React Native streams the file)', async () => {
    (Platform as any).OS = 'ios';
    const form = { append: jest.fn() };
    await api.appendImage(form as any, 'content', content);
    expect(form.append).toHaveBeenCalledWith('content', { uri: content.uri, name: 'a.jpg', type: 'image/jpeg' });
  });

  test("web: the picker's File, with its file name", async () => {
    (Platform as any).OS = 'web';
    const file = new Blob(['x'], { type: 'image/jpeg' });
    const form = { append: jest.fn() };
    await api.appendImage(form as any, 'content', { ...content, uri: 'blob:http://x/1', file });
    expect(form.append).toHaveBeenCalledWith('content', file, 'a.jpg');
  });

  test('web: a resized image (data/blob URI, no File) is fetched into a Blob', async () => {
    (Platform as any).OS = 'web';
    const blob = new Blob(['y'], { type: 'image/jpeg' });
    global.fetch = jest.fn(() => Promise.resolve({ blob: () => Promise.resolve(blob) } as any)) as any;
    const form = { append: jest.fn() };
    await api.appendImage(form as any, 'style', { uri: 'data:image/jpeg;base64,eQ==', name: 'b.jpg', type: 'image/jpeg' });
    expect(global.fetch).toHaveBeenCalledWith('data:image/jpeg;base64,eQ==');
    expect(form.append).toHaveBeenCalledWith('style', blob, 'b.jpg');
  });
});

test('result and preview URLs', () => {
  expect(api.resultUrl('http://s', 'ab')).toBe('http://s/api/jobs/ab/result');
  expect(api.resultUrl('http://s', 'ab', 'jpeg')).toBe('http://s/api/jobs/ab/result?format=jpeg');
  expect(api.previewUrl('http://s', 'ab', 4)).toBe('http://s/api/jobs/ab/preview?v=4');
});

test('newKey gives distinct printable keys', () => {
  const a = api.newKey();
  expect(a).toMatch(/^[\x21-\x7e]{1,200}$/);
  expect(api.newKey()).not.toBe(a);
});

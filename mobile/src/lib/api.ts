// Every call to the service lives here: styles, submit (stylize, portrait), job status, cancel, result download.
// The server URL is passed in (from Settings); URLs the server returns may be relative and are resolved here.
import { Platform } from 'react-native';
import { Contract, parseContract } from './contract';

export type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const TERMINAL: Status[] = ['succeeded', 'failed', 'canceled'];

export type Job = {
  id: string;
  kind: 'stylize' | 'portrait' | string;
  status: Status;
  progress: { step: number; total: number; fraction: number };
  eta_seconds: number | null;
  queue_position: number | null;
  params: Record<string, unknown>;
  error: { code: string; message: string } | null;
  // face: a portrait's generated face (H7); content: the uploaded photo, when the server offers them
  urls: { get: string; result: string; preview: string; cancel: string; face?: string; content?: string };
};

export type Preset = { id: number; name: string; thumbnail: string; strength?: number };

/** A translate model (GET /api/generators: CycleGAN / pix2pix in MODELS_DIR/translate, e.g. the bundled vintage). */
export type TranslateModel = { name: string; direction?: string; family?: string; size?: number };
/** A face generator the user trained (GET /api/generators' generators: DCGANs in MODELS_DIR/generators). */
export type Generator = { name: string; size?: number; created?: string };

/** Print size: the result enlarged 2x or 4x (Real-ESRGAN) after painting; size x upscale at most MAX_OUTPUT. */
export type Upscale = 1 | 2 | 4;
export const MAX_OUTPUT = 4096;

// A picked (and maybe resized) image, ready to upload. `file` is the browser's File/Blob on web.
export type Picked = { uri: string; name: string; type: string; width?: number; height?: number; file?: Blob };

export type Engine = 'fast' | 'gatys' | 'translate';

export type StylizeInput = {
  content: Picked;
  style?: Picked | null;
  preset?: number | null;
  engine: Engine;
  strength?: number;
  size?: number;
  steps?: number | null;
  model?: string | null; // engine=translate
  upscale?: Upscale;
  preserveColor?: boolean; // fast and gatys: keep the photo's colours
  extra?: Record<string, string>; // more settings from the contract (e.g. gatys style_weight, init), sent as they are
};

export type PortraitInput = {
  seed?: number | null; // a generated face; or
  photo?: Picked | null; // the user's own photo ("From a photo")
  generator?: string | null; // a trained DCGAN for the generated face; absent: the bundled one
  extra?: Record<string, string>;
  style?: Picked | null;
  preset?: number | null;
  engine: Engine;
  size?: number;
  upscale?: Upscale;
};

export class ApiError extends Error {
  status: number; // 0: the server could not be reached
  code: string;
  retryAfter: number | null;
  field: string | null; // the form field a 4xx is about (the server's error.field), when it says
  constructor(status: number, code: string, message: string, retryAfter: number | null = null, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.field = field;
  }
}

/** Worth sending again as it is: the network, a busy queue (429) or a server fault. Anything else needs a change. */
export function transient(e: unknown): boolean {
  const st = e instanceof ApiError ? e.status : -1;
  return st === 0 || st === 429 || st >= 500;
}

const FIELDS: Record<string, string> = {
  content: 'Your photo', style: 'Style image', photo: 'Your photo', steps: 'Steps (Advanced options)',
  size: 'Output size (Advanced options)', strength: 'Strength', preset: 'Style', seed: 'Face number',
  face_strength: 'Face strength', upscale: 'Print size',
};

/** A submit error for the user: what happened, and for bad input what to change (never "try again" as it is). */
export function explain(e: any): string {
  const msg = String(e?.message ?? e);
  if (!(e instanceof ApiError)) return msg;
  if (e.retryAfter) return `${msg} (retry in ${e.retryAfter} s)`;
  if (e.status === 401) return `${msg}. Enter the server's API key in Settings.`;
  if (e.status === 413) return `${msg}. Pick a smaller photo.`;
  // "content: the image data is corrupt" -> "Your photo: the image data is corrupt"
  const m = /^(\w+): (.*)$/s.exec(msg);
  const field = e.field ?? m?.[1] ?? null;
  const what = field && FIELDS[field] ? `${FIELDS[field]}: ${m && m[1] === field ? m[2] : msg}` : msg;
  if (e.status === 415 || /image/.test(e.code)) return `${what}. Pick a JPEG, PNG or WebP image.`;
  if (e.status >= 400 && e.status < 500) return `${what}. Change ${field && FIELDS[field] ? 'it' : 'that'} and press the button again.`;
  return msg;
}

export const GET_TIMEOUT_MS = 15000;

// The API key (Settings), sent as `Authorization: Bearer` on every request when set. One per app, like the server.
let apiKey = '';
export function setApiKey(key: string | null) {
  apiKey = (key ?? '').trim();
}
export function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}
export const UPLOAD_TIMEOUT_MS = 120000;

/** base + path, or path itself when it is already absolute. */
export function absolute(base: string, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path);
}

async function call(base: string, path: string, init: RequestInit = {}, timeoutMs = GET_TIMEOUT_MS): Promise<any> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let resp: Response;
  try {
    const headers = { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) };
    resp = await fetch(absolute(base, path), { ...init, headers, signal: ctl.signal });
  } catch (e: any) {
    const why = e?.name === 'AbortError' ? 'timed out' : 'is unreachable';
    throw new ApiError(0, 'network', `The server ${base || '(none set)'} ${why}. Check the connection and the server URL in Settings.`);
  } finally {
    clearTimeout(timer);
  }
  let body: any = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!resp.ok) {
    const err = body?.error ?? {};
    // Retry-After means "come back later" only on these; rate-limit headers ride along on other answers too.
    const after = resp.status === 429 || resp.status === 503 ? Number(resp.headers.get('Retry-After')) : NaN;
    throw new ApiError(resp.status, err.code || `http_${resp.status}`, err.message || `The server answered ${resp.status}.`,
      Number.isFinite(after) && after > 0 ? after : null, typeof err.field === 'string' ? err.field : null);
  }
  return body;
}

/** GET /api/styles: {styles: [{id, name, thumbnail}], count} (app/styles.py; fixtures/styles.json). */
export async function getStyles(base: string): Promise<Preset[]> {
  const body = await call(base, '/api/styles');
  return (body?.styles ?? []).map((s: any) => ({
    id: Number(s.id),
    name: String(s.name ?? `Style ${s.id}`),
    thumbnail: absolute(base, String(s.thumbnail ?? `/api/styles/${s.id}.jpg`)),
    strength: typeof s.strength === 'number' ? s.strength : undefined,
  }));
}

/** GET /api/openapi.json: the request contract (fields, ranges, defaults per engine; lib/contract.ts). */
export async function getContract(base: string): Promise<Contract> {
  return parseContract(await call(base, '/api/openapi.json'));
}

/** GET /api/generators: translate models and trained face generators (app/generators.py; fixtures/generators.json). */
export async function getModels(base: string): Promise<{ translate: TranslateModel[]; generators: Generator[] }> {
  const body = await call(base, '/api/generators');
  return {
    translate: (body?.translate ?? []).map((m: any) => ({ name: String(m.name), direction: m.direction ?? undefined,
      family: m.family ?? undefined, size: m.size ?? undefined })),
    generators: (body?.generators ?? []).map((g: any) => ({ name: String(g.name), size: g.size ?? undefined,
      created: g.created ?? undefined })),
  };
}

/** GET /api/health (app/health.py; fixtures/health.json). */
export type Health = {
  status: string;
  broker: { ok: boolean; kind: string };
  job_store: { ok: boolean };
  workers: { count: number; queues: string[] };
  queue_depth: Record<string, number>;
};

export async function health(base: string): Promise<Health> {
  return call(base, '/api/health');
}

/** GET /api/snack: the form that opens this app in Expo Snack (app/snack.py; fixtures/snack.json). */
export type SnackForm = {
  url: string;
  method: string;
  fields: Record<string, string>;
  server: string | null;
  warning?: string;
  server_from?: string;
};

export function getSnack(base: string): Promise<SnackForm> {
  return call(base, '/api/snack');
}

/** A photo the server still has (a job's urls.content), as a picked image again: on the web a File-like Blob. */
export async function refetchPicked(url: string, like: Picked): Promise<Picked> {
  const resp = await fetch(url, { headers: authHeaders() });
  if (!resp.ok) throw new ApiError(resp.status, `http_${resp.status}`, `The photo could not be loaded (${resp.status}).`);
  const file = await resp.blob();
  return { ...like, uri: URL.createObjectURL(file), type: file.type || like.type, file };
}

/** An image the server serves, as a URI the Image component can show: with an API key on the web (where <img>
 * cannot send headers) it is fetched with the key and shown from a blob: URL. */
export async function fetchImage(url: string): Promise<string> {
  const resp = await fetch(url, { headers: authHeaders() });
  if (!resp.ok) throw new ApiError(resp.status, `http_${resp.status}`, `The image could not be loaded (${resp.status}).`);
  return URL.createObjectURL(await resp.blob());
}

/** Adds an image part: {uri, name, type} on native (React Native streams the file), the File/Blob on web. */
export async function appendImage(form: FormData, field: string, img: Picked): Promise<void> {
  if (Platform.OS === 'web') {
    const blob = img.file ?? (await (await fetch(img.uri)).blob());
    form.append(field, blob, img.name);
  } else {
    form.append(field, { uri: img.uri, name: img.name, type: img.type } as any);
  }
}

function put(form: FormData, name: string, value: unknown) {
  if (value !== undefined && value !== null && value !== '') form.append(name, String(value));
}

export async function stylizeForm(input: StylizeInput): Promise<FormData> {
  const form = new FormData();
  await appendImage(form, 'content', input.content);
  put(form, 'engine', input.engine);
  put(form, 'size', input.size);
  if (input.upscale && input.upscale > 1) put(form, 'upscale', input.upscale);
  if (input.engine === 'translate') { // a model paints in its own style: no style, preset or strength
    put(form, 'model', input.model);
    return form;
  }
  if (input.style) await appendImage(form, 'style', input.style);
  else put(form, 'preset', input.preset);
  if (input.engine === 'fast') put(form, 'strength', input.strength);
  else put(form, 'steps', input.steps);
  if (input.preserveColor) put(form, 'preserve_color', 'true');
  for (const [k, v] of Object.entries(input.extra ?? {})) put(form, k, v);
  return form;
}

export async function portraitForm(input: PortraitInput): Promise<FormData> {
  const form = new FormData();
  if (input.photo) await appendImage(form, 'photo', input.photo); // a photo or a seed, never both
  else {
    put(form, 'seed', input.seed);
    put(form, 'generator', input.generator);
  }
  if (input.style) await appendImage(form, 'style', input.style);
  else put(form, 'preset', input.preset);
  put(form, 'engine', input.engine);
  put(form, 'size', input.size);
  if (input.upscale && input.upscale > 1) put(form, 'upscale', input.upscale);
  for (const [k, v] of Object.entries(input.extra ?? {})) put(form, k, v);
  return form;
}

// No Content-Type header: fetch sets multipart/form-data with its boundary itself.
function post(base: string, path: string, form: FormData, key: string): Promise<Job> {
  return call(base, path, { method: 'POST', body: form, headers: { 'Idempotency-Key': key } }, UPLOAD_TIMEOUT_MS);
}

export async function submitStylize(base: string, input: StylizeInput, key: string): Promise<Job> {
  return post(base, '/api/stylize', await stylizeForm(input), key);
}

export async function submitPortrait(base: string, input: PortraitInput, key: string): Promise<Job> {
  return post(base, '/api/portrait', await portraitForm(input), key);
}

export function getJob(base: string, id: string): Promise<Job> {
  return call(base, `/api/jobs/${encodeURIComponent(id)}`);
}

export function cancelJob(base: string, id: string): Promise<Job> {
  return call(base, `/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
}

export function resultUrl(base: string, id: string, format: 'png' | 'jpeg' = 'png'): string {
  const url = absolute(base, `/api/jobs/${encodeURIComponent(id)}/result`);
  return format === 'jpeg' ? `${url}?format=jpeg` : url;
}

/** The latest snapshot; `version` (e.g. the step) defeats image caches so each new preview is fetched. */
export function previewUrl(base: string, id: string, version: number | string = 0): string {
  return absolute(base, `/api/jobs/${encodeURIComponent(id)}/preview?v=${version}`);
}

/** Native only: downloads the result PNG into the cache directory and returns its file:// uri. */
export async function downloadResult(base: string, id: string, name = `neural-art-${id}.png`): Promise<string> {
  const FileSystem = require('expo-file-system/legacy');
  const target = `${FileSystem.cacheDirectory}${name}`;
  const res = await FileSystem.downloadAsync(resultUrl(base, id), target, { headers: authHeaders() });
  if (res.status !== 200) throw new ApiError(res.status, 'download_failed', `Download failed (${res.status}).`);
  return res.uri;
}

/** A fresh Idempotency-Key: one per submit intent, reused when that same submit is retried. */
export function newKey(): string {
  const rnd = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `app-${Date.now().toString(16)}-${rnd()}${rnd()}`;
}

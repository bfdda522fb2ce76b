// The request contract as the server publishes it (GET /api/openapi.json, generated from worker/params.py): each
// engine's fields with their types, ranges, choices and defaults. The app builds its "more settings" from it, so a
// parameter, limit or default lives in one place (the server's) and the app follows it.
export type Field = {
  name: string;
  type: string; // integer | number | string | boolean
  min?: number;
  max?: number;
  default?: unknown;
  choices?: string[];
  description?: string;
};

export type Fields = Record<string, Record<string, Field>>; // engine -> field name -> field
// portrait: a generated face's branches; portraitPhoto: the "your photo" branches (those that require a photo)
export type Contract = { stylize: Fields; portrait: Fields; portraitPhoto: Fields };

// Fields the app has its own controls for; any other field the server offers gets a generic one ("More settings").
export const OWN_CONTROLS = new Set(['engine', 'size', 'steps', 'upscale', 'preserve_color', 'strength', 'preset', 'model',
  'seed', 'generator', 'style_weights', 'content', 'style', 'photo']);

/** Every field the server offers for this engine that the app has no control of its own for. */
export function extraFields(fields: Fields | undefined, engine: string, ownSeed = true): Field[] {
  return Object.values(fields?.[engine] ?? {}).filter((f) => !OWN_CONTROLS.has(f.name) || (!ownSeed && f.name === 'seed'));
}

export function parseContract(doc: any): Contract {
  const portrait = formSchema(doc, '/api/portrait');
  const photo = (b: any) => Array.isArray(b?.required) && b.required.includes('photo');
  return { stylize: parseForm(formSchema(doc, '/api/stylize')), portrait: parseForm(portrait, (b) => !photo(b)),
    portraitPhoto: parseForm(portrait, photo) };
}

/** The multipart body schema the endpoint takes (inline, or a $ref into components). */
export function formSchema(doc: any, path: string): any {
  let schema = doc?.paths?.[path]?.post?.requestBody?.content?.['multipart/form-data']?.schema;
  const ref = schema?.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    schema = ref.slice(2).split('/').reduce((o: any, k: string) => o?.[k], doc);
  }
  return schema;
}

/** A multipart form's fields per engine, from its branches (oneOf). */
export function parseForm(form: any, keep: (branch: any) => boolean = () => true): Fields {
  const out: Fields = {};
  for (const branch of (form?.oneOf ?? []).filter(keep)) {
    const props = branch?.properties ?? {};
    const e = props.engine ?? {};
    const engines: unknown[] = e.const !== undefined ? [e.const] : Array.isArray(e.enum) ? e.enum : [e.default];
    for (const engine of engines) {
    if (typeof engine !== 'string') continue;
    const fields = (out[engine] = out[engine] ?? {});
    for (const [name, p] of Object.entries<any>(props)) {
      if (p?.format === 'binary' || p?.items?.format === 'binary' || name in fields) continue; // files have their own pickers
      fields[name] = {
        name, type: String(p.type ?? 'string'), min: num(p.minimum), max: num(p.maximum), default: p.default,
        choices: Array.isArray(p.enum) ? p.enum.map(String) : undefined,
        description: typeof p.description === 'string' ? p.description.replace(/\s*\((default|one of)[^)]*\)/g, '') : undefined,
      };
    }
    }
  }
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** What is wrong with a text value for this field, or null ('' is fine: the server's default). */
export function fieldProblem(f: Field, text: string): string | null {
  if (!text) return null;
  if (f.choices) return f.choices.includes(text) ? null : `${label(f)} must be one of ${f.choices.join(', ')}`;
  if (f.type !== 'integer' && f.type !== 'number') return null;
  const n = Number(text);
  const range = rangeText(f);
  if (!Number.isFinite(n) || (f.type === 'integer' && !Number.isInteger(n))) {
    return `${label(f)} must be ${f.type === 'integer' ? 'a whole number' : 'a number'}${range}, not ${text}`;
  }
  if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return `${label(f)} must be${range}, not ${text}`;
  return null;
}

export function label(f: Field): string {
  const s = f.name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** " from 0.1 to 4", or " 0 or more" when the upper limit is only a guard against absurd numbers. */
export function rangeText(f: Field): string {
  const huge = f.max !== undefined && Math.abs(f.max) >= 1e6;
  if (f.min !== undefined && f.max !== undefined && !huge) return ` from ${f.min} to ${f.max}`;
  if (f.min !== undefined) return ` ${f.min} or more`;
  return '';
}

// Names for saved files: what the picture is and when it was made, e.g. neural-art_wave_2026-11-25_1712.png.
import type { Entry } from './history';

function slug(s: string): string {
  return s.normalize('NFKD').replace(/[^\w\s-]/g, '').trim().toLowerCase().replace(/[\s_-]+/g, '-').slice(0, 40) || 'style';
}

export function fileName(e: Pick<Entry, 'kind' | 'styleName' | 'seed' | 'createdAt'>, ext = 'png'): string {
  const d = new Date(e.createdAt);
  const p = (n: number) => String(n).padStart(2, '0');
  const when = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}`;
  const face = e.seed == null ? 'photo' : String(e.seed);
  const what = e.kind === 'portrait' ? `portrait-${face}-${slug(e.styleName ?? 'style')}` : slug(e.styleName ?? 'style');
  return `neural-art_${what}_${when}.${ext}`;
}

export const colors = {
  bg: '#f6f4f0',
  card: '#ffffff',
  ink: '#1d1b19',
  muted: '#6b655e',
  line: '#ddd6cc',
  accent: '#7a3cff',
  accentInk: '#ffffff',
  danger: '#b3261e',
  dangerBg: '#fdecea',
  ok: '#1b7f3b',
};
export const space = (n: number) => n * 4;
export const MAX_WIDTH = 760; // readable on a desktop browser; phones use their full width

import React, { useRef, useState } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, View } from 'react-native';
import type { Preset } from '../lib/api';
import { colors, space } from '../lib/theme';
import ErrorBox from './ErrorBox';
import ServerImage from './ServerImage';

type Props = {
  presets: Preset[];
  loading: boolean;
  error: string | null;
  selected: number | null;
  onSelect: (id: number) => void;
  onRetry: () => void;
};

export const TILE = 84; // the smallest tile; tiles grow to fill the row, so no strip is left empty
const GAP = space(2);

/** Columns and tile width that fill `width` exactly. */
export function grid(width: number): { cols: number; tile: number } {
  const cols = Math.max(1, Math.floor((width + GAP) / (TILE + GAP)));
  return { cols, tile: Math.floor((width - GAP * (cols - 1)) / cols) };
}

/** The radio group's keyboard: arrows move (and select) within the grid, Home/End jump; null: not ours. */
export function moveKey(key: string, i: number, n: number, cols: number): number | null {
  switch (key) {
    case 'ArrowRight': return (i + 1) % n;
    case 'ArrowLeft': return (i - 1 + n) % n;
    case 'ArrowDown': return Math.min(n - 1, i + cols);
    case 'ArrowUp': return Math.max(0, i - cols);
    case 'Home': return 0;
    case 'End': return n - 1;
  }
  return null;
}

/** The presets as one radio group: one Tab stop (the selected tile, else the first), arrow keys, Space/Enter. */
export default function PresetGallery({ presets, loading, error, selected, onSelect, onRetry }: Props) {
  const [width, setWidth] = useState(0);
  const refs = useRef<(any | null)[]>([]);
  if (error) return <ErrorBox testID="styles-error" message={`Could not load the styles. ${error}`} onRetry={onRetry} />;
  if (loading && !presets.length) {
    return <ActivityIndicator testID="styles-loading" accessibilityLabel="Loading styles" color={colors.accent} />;
  }
  if (!presets.length) return <Text style={styles.empty}>This server offers no preset styles; pick your own style image.</Text>;
  const { cols, tile } = grid(width || TILE);
  const current = Math.max(0, presets.findIndex((p) => p.id === selected));

  const onKeyDown = (e: any) => {
    const i = refs.current.findIndex((r) => r && typeof document !== 'undefined' && r === document.activeElement);
    if (i < 0) return;
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      onSelect(presets[i].id);
      return;
    }
    const j = moveKey(e.key, i, presets.length, cols);
    if (j === null) return;
    e.preventDefault();
    onSelect(presets[j].id);
    refs.current[j]?.focus?.();
  };

  return (
    <View accessibilityRole="radiogroup" accessibilityLabel="Preset styles" style={styles.grid}
      onLayout={(e) => setWidth(e.nativeEvent.layout.width)} {...({ onKeyDown } as any)}>
      {presets.map((p, i) => {
        const on = p.id === selected;
        return (
          <Pressable
            key={p.id}
            ref={(r) => { refs.current[i] = r; }}
            testID={`preset-${p.id}`}
            accessibilityRole="radio"
            accessibilityLabel={`Style: ${p.name}`}
            aria-checked={on}
            tabIndex={i === current ? 0 : -1}
            onPress={() => onSelect(p.id)}
            style={[styles.tile, width ? { width: tile } : null, on && styles.on]}
          >
            <ServerImage uri={p.thumbnail} style={styles.thumb} accessibilityIgnoresInvertColors />
            <Text numberOfLines={1} style={[styles.name, on && styles.onText]}>{p.name}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}

const styles = StyleSheet.create({
  grid: { flexDirection: 'row', flexWrap: 'wrap', gap: GAP },
  tile: { width: TILE, borderRadius: 10, borderWidth: 2, borderColor: 'transparent', padding: 2, alignItems: 'center' },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  thumb: { width: '100%', aspectRatio: 1, borderRadius: 8, backgroundColor: colors.line },
  name: { fontSize: 13, color: colors.muted, marginTop: 2, maxWidth: '100%' },
  onText: { color: colors.accent, fontWeight: '700' },
  empty: { color: colors.muted },
});

import React from 'react';
import { ActivityIndicator, Image, Pressable, StyleSheet, Text, View } from 'react-native';
import type { Preset } from '../lib/api';
import { colors, space } from '../lib/theme';
import ErrorBox from './ErrorBox';

type Props = {
  presets: Preset[];
  loading: boolean;
  error: string | null;
  selected: number | null;
  onSelect: (id: number) => void;
  onRetry: () => void;
};

export default function PresetGallery({ presets, loading, error, selected, onSelect, onRetry }: Props) {
  if (error) return <ErrorBox testID="styles-error" message={`Could not load the styles. ${error}`} onRetry={onRetry} />;
  if (loading && !presets.length) {
    return <ActivityIndicator testID="styles-loading" accessibilityLabel="Loading styles" color={colors.accent} />;
  }
  if (!presets.length) return <Text style={styles.empty}>This server offers no preset styles; pick your own style image.</Text>;
  return (
    <View accessibilityRole="radiogroup" accessibilityLabel="Preset styles" style={styles.grid}>
      {presets.map((p) => {
        const on = p.id === selected;
        return (
          <Pressable
            key={p.id}
            testID={`preset-${p.id}`}
            accessibilityRole="radio"
            accessibilityLabel={`Style: ${p.name}`}
            aria-checked={on}
            onPress={() => onSelect(p.id)}
            style={[styles.tile, on && styles.on]}
          >
            <Image source={{ uri: p.thumbnail }} style={styles.thumb} accessibilityIgnoresInvertColors />
            <Text numberOfLines={1} style={[styles.name, on && styles.onText]}>{p.name}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}

const styles = StyleSheet.create({
  grid: { flexDirection: 'row', flexWrap: 'wrap', gap: space(2) },
  tile: { width: 84, borderRadius: 10, borderWidth: 2, borderColor: 'transparent', padding: 2, alignItems: 'center' },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  thumb: { width: 76, height: 76, borderRadius: 8, backgroundColor: colors.line },
  name: { fontSize: 11, color: colors.muted, marginTop: 2, maxWidth: 76 },
  onText: { color: colors.accent, fontWeight: '700' },
  empty: { color: colors.muted },
});

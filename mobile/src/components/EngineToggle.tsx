import React from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import type { Engine } from '../lib/api';
import { colors, space } from '../lib/theme';

const OPTIONS: { key: Engine; label: string; hint: string }[] = [
  { key: 'fast', label: 'Fast', hint: 'Seconds; one pass of a trained network' },
  { key: 'gatys', label: 'Best quality', hint: 'Minutes; paints by optimisation (Gatys)' },
];

export default function EngineToggle({ value, onChange }: { value: Engine; onChange: (e: Engine) => void }) {
  return (
    <View accessibilityRole="radiogroup" accessibilityLabel="Engine" style={styles.row}>
      {OPTIONS.map((o) => {
        const on = o.key === value;
        return (
          <Pressable
            key={o.key}
            testID={`engine-${o.key}`}
            accessibilityRole="radio"
            accessibilityLabel={`${o.label}: ${o.hint}`}
            aria-checked={on}
            onPress={() => onChange(o.key)}
            style={[styles.opt, on && styles.on]}
          >
            <Text style={[styles.label, on && styles.onText]}>{o.label}</Text>
            <Text style={styles.hint}>{o.hint}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: 'row', gap: space(2) },
  opt: { flex: 1, minHeight: 44, padding: space(3), borderRadius: 10, borderWidth: 2, borderColor: colors.line, gap: 2 },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  label: { fontSize: 16, fontWeight: '700', color: colors.ink },
  onText: { color: colors.accent },
  hint: { fontSize: 12, color: colors.muted },
});

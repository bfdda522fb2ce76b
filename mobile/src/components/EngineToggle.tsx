import React from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import type { Engine, TranslateModel } from '../lib/api';
import { colors, space } from '../lib/theme';

const OPTIONS: { key: Engine; label: string; hint: string }[] = [
  { key: 'fast', label: 'Fast', hint: 'Seconds; one pass of a trained network' },
  { key: 'gatys', label: 'Best quality', hint: 'Minutes; paints by optimisation (Gatys)' },
];

/** "vintage" + "photo -> vintage photo" -> "Vintage photo". */
export function modelLabel(m: TranslateModel): string {
  const to = m.direction?.split('->')[1]?.trim();
  const text = to || m.name;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

type Props = {
  value: Engine;
  onChange: (e: Engine) => void;
  models?: TranslateModel[]; // engine=translate is offered when the server has models
  model?: string | null;
  onModel?: (name: string) => void;
};

export default function EngineToggle({ value, onChange, models = [], model, onModel }: Props) {
  const options = models.length
    ? [...OPTIONS, { key: 'translate' as Engine, label: models.length === 1 ? modelLabel(models[0]) : 'Photo models',
      hint: 'Seconds; a model trained to turn photos into one look' }]
    : OPTIONS;
  return (
    <View style={styles.wrap}>
      <View accessibilityRole="radiogroup" accessibilityLabel="Engine" style={styles.row}>
        {options.map((o) => {
          const on = o.key === value;
          return (
            <Pressable
              key={o.key}
              testID={`engine-${o.key}`}
              accessibilityRole="radio"
              accessibilityLabel={`${o.label}: ${o.hint}`}
              aria-checked={on}
              onPress={() => { onChange(o.key); if (o.key === 'translate' && !model && models[0]) onModel?.(models[0].name); }}
              style={[styles.opt, on && styles.on]}
            >
              <Text style={[styles.label, on && styles.onText]}>{o.label}</Text>
              <Text style={styles.hint}>{o.hint}</Text>
            </Pressable>
          );
        })}
      </View>
      {value === 'translate' && models.length > 1 ? (
        <View accessibilityRole="radiogroup" accessibilityLabel="Photo model" style={styles.chips}>
          {models.map((m) => (
            <Pressable key={m.name} testID={`model-${m.name}`} accessibilityRole="radio" aria-checked={m.name === model}
              accessibilityLabel={`${modelLabel(m)} (${m.name})`} onPress={() => onModel?.(m.name)}
              style={[styles.chip, m.name === model && styles.on]}>
              <Text style={[styles.chipText, m.name === model && styles.onText]}>{modelLabel(m)}</Text>
            </Pressable>
          ))}
        </View>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: space(2) },
  row: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  opt: { flex: 1, minWidth: 140, minHeight: 44, padding: space(3), borderRadius: 10, borderWidth: 2, borderColor: colors.line, gap: 2 },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  label: { fontSize: 16, fontWeight: '700', color: colors.ink },
  onText: { color: colors.accent },
  hint: { fontSize: 13, color: colors.muted },
  chips: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  chip: { minHeight: 40, paddingHorizontal: space(3), borderRadius: 20, borderWidth: 1, borderColor: colors.line, justifyContent: 'center' },
  chipText: { color: colors.ink },
});

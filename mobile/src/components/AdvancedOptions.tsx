import React, { useState } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';
import { MAX_OUTPUT, Upscale } from '../lib/api';
import { Field, fieldProblem, label, rangeText } from '../lib/contract';
import { colors, space } from '../lib/theme';

export const SIZES = [256, 384, 512, 768, 1024];
// Steps as the server's contract gives it (GET /api/openapi.json); this only while that is not loaded.
export const STEPS: Field = { name: 'steps', type: 'integer', min: 1, max: 1000 };

/** What is wrong with the Steps text, or null ('' is fine: the server's default). */
export function stepsProblem(text: string, field: Field = STEPS): string | null {
  return fieldProblem(field, text);
}

/** More settings the server offers (e.g. Best quality's style weight, starting image), each with its range. */
function Extras({ fields, values, onChange }: { fields: Field[]; values: Record<string, string>; onChange: (n: string, v: string) => void }) {
  return (
    <View testID="more-settings" style={styles.body}>
      {fields.map((f) => {
        const v = values[f.name] ?? '';
        const bad = fieldProblem(f, v);
        const range = rangeText(f) ? `,${rangeText(f).replace(/^ from/, '')}` : '';
        const def = f.default !== undefined ? `; default ${String(f.default)}` : '';
        if (f.choices || f.type === 'boolean') {
          const choices = f.choices ?? ['true', 'false'];
          return (
            <View key={f.name} style={styles.body}>
              <Text style={styles.label}>{label(f)}{f.description ? `: ${f.description}` : ''}{def}</Text>
              <View accessibilityRole="radiogroup" accessibilityLabel={label(f)} style={styles.row}>
                {choices.map((c) => {
                  const on = v === c || (!v && String(f.default) === c);
                  return (
                    <Pressable key={c} testID={`field-${f.name}-${c}`} accessibilityRole="radio" aria-checked={on}
                      onPress={() => onChange(f.name, String(f.default) === c ? '' : c)} style={[styles.chip, on && styles.on]}>
                      <Text style={[styles.chipText, on && styles.onText]}>{c}</Text>
                    </Pressable>
                  );
                })}
              </View>
            </View>
          );
        }
        return (
          <View key={f.name} style={styles.body}>
            <Text style={styles.label}>{label(f)}{f.description ? `: ${f.description}` : ''}{range}{def}</Text>
            <TextInput testID={`field-${f.name}`} accessibilityLabel={`${label(f)}${range}`} value={v}
              keyboardType={f.type === 'integer' ? 'number-pad' : 'decimal-pad'} placeholderTextColor={colors.muted}
              placeholder={f.default !== undefined ? `${f.default} (default)` : 'default'}
              onChangeText={(t) => onChange(f.name, t.trim())} style={[styles.input, bad ? styles.bad : null]} />
            {bad ? <Text testID={`field-${f.name}-error`} style={styles.badText}>{bad}.</Text> : null}
          </View>
        );
      })}
    </View>
  );
}

type Props = {
  size: number;
  onSize: (n: number) => void;
  steps: string; // text, '' = the server's default
  onSteps?: (s: string) => void; // shown only when steps apply (Best quality)
  upscale?: Upscale;
  onUpscale?: (u: Upscale) => void; // print size, when given
  preserve?: boolean;
  onPreserve?: (on: boolean) => void; // "keep the photo's colours", when it applies
  stepsField?: Field; // the contract's, when known
  extras?: Field[]; // more settings from the contract
  extra?: Record<string, string>;
  onExtra?: (name: string, value: string) => void;
};

export const UPSCALES: Upscale[] = [1, 2, 4];

/** Folded by default: output size, and optimisation steps for the Gatys engine. */
export default function AdvancedOptions({ size, onSize, steps, onSteps, upscale = 1, onUpscale, preserve = false, onPreserve,
  stepsField = STEPS, extras = [], extra = {}, onExtra }: Props) {
  const [open, setOpen] = useState(false);
  return (
    <View style={styles.wrap}>
      <Pressable testID="advanced-toggle" accessibilityRole="button" aria-expanded={open}
        accessibilityLabel={open ? 'Hide advanced options' : 'Show advanced options'} onPress={() => setOpen(!open)} style={styles.head}>
        <Text style={styles.headText}>{open ? '▾' : '▸'} Advanced options</Text>
      </Pressable>
      {open ? (
        <View testID="advanced" style={styles.body}>
          <Text style={styles.label}>Output size (long side, px)</Text>
          <View accessibilityRole="radiogroup" style={styles.row}>
            {SIZES.map((n) => (
              <Pressable key={n} testID={`size-${n}`} accessibilityRole="radio" accessibilityLabel={`${n} pixels`}
                aria-checked={n === size} onPress={() => onSize(n)}
                style={[styles.chip, n === size && styles.on]}>
                <Text style={[styles.chipText, n === size && styles.onText]}>{n}</Text>
              </Pressable>
            ))}
          </View>
          {onPreserve ? (
            <Pressable testID="preserve-color" accessibilityRole="switch" aria-checked={preserve}
              accessibilityLabel="Keep the photo's colours" onPress={() => onPreserve(!preserve)}
              style={[styles.chip, styles.switch, preserve && styles.on]}>
              <Text style={[styles.chipText, preserve && styles.onText]}>{preserve ? '☑' : '☐'} Keep the photo's colours (paint only the texture)</Text>
            </Pressable>
          ) : null}
          {onUpscale ? (
            <>
              <Text style={styles.label}>Print size: the painting enlarged with Real-ESRGAN (slower; at most {MAX_OUTPUT} px)</Text>
              <View accessibilityRole="radiogroup" accessibilityLabel="Print size" style={styles.row}>
                {UPSCALES.filter((u) => size * u <= MAX_OUTPUT).map((u) => (
                  <Pressable key={u} testID={`upscale-${u}`} accessibilityRole="radio" aria-checked={u === upscale}
                    accessibilityLabel={u === 1 ? 'As painted' : `${u} times larger, ${size * u} pixels`}
                    onPress={() => onUpscale(u)} style={[styles.chip, u === upscale && styles.on]}>
                    <Text style={[styles.chipText, u === upscale && styles.onText]}>{u === 1 ? 'As painted' : `×${u} · ${size * u} px`}</Text>
                  </Pressable>
                ))}
              </View>
            </>
          ) : null}
          {onSteps ? (
            <>
              <Text style={styles.label}>Steps, {stepsField.min} to {stepsField.max} (empty: the server's default{stepsField.default !== undefined ? `, ${stepsField.default}` : ''}; more is slower and finer)</Text>
              <TextInput testID="steps" accessibilityLabel={`Optimisation steps, ${stepsField.min} to ${stepsField.max}`} keyboardType="number-pad"
                value={steps} onChangeText={(t) => onSteps(t.replace(/[^0-9]/g, ''))} placeholderTextColor={colors.muted}
                placeholder={stepsField.default !== undefined ? `${stepsField.default} (default)` : 'default'}
                style={[styles.input, stepsProblem(steps, stepsField) ? styles.bad : null]} />
              {stepsProblem(steps, stepsField) ? <Text testID="steps-error" style={styles.badText}>{stepsProblem(steps, stepsField)}.</Text> : null}
            </>
          ) : null}
          {onExtra && extras.length ? <Extras fields={extras} values={extra} onChange={onExtra} /> : null}
        </View>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: space(2) },
  head: { minHeight: 44, justifyContent: 'center' },
  headText: { fontSize: 15, color: colors.accent, fontWeight: '600' },
  body: { gap: space(2) },
  label: { fontSize: 13, color: colors.muted },
  row: { flexDirection: 'row', flexWrap: 'wrap', gap: space(2) },
  chip: { minWidth: 56, minHeight: 40, paddingHorizontal: space(2), borderRadius: 20, borderWidth: 1, borderColor: colors.line, alignItems: 'center', justifyContent: 'center' },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  chipText: { color: colors.ink },
  onText: { color: colors.accent, fontWeight: '700' },
  bad: { borderColor: colors.danger },
  switch: { alignSelf: 'flex-start', paddingHorizontal: space(3) },
  badText: { color: colors.danger, fontSize: 13 },
  input: { borderWidth: 1, borderColor: colors.line, borderRadius: 8, padding: space(2), fontSize: 16, maxWidth: 140, backgroundColor: colors.card },
});

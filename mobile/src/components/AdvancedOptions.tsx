import React, { useState } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';
import { MAX_OUTPUT, Upscale } from '../lib/api';
import { colors, space } from '../lib/theme';

export const SIZES = [256, 384, 512, 768, 1024];
// The server's default MAX_STEPS; a server set lower answers with its own limit in the error.
export const STEPS = { min: 1, max: 1000 };

/** What is wrong with the Steps text, or null ('' is fine: the server's default). */
export function stepsProblem(text: string): string | null {
  if (!text) return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < STEPS.min || n > STEPS.max) return `Steps must be from ${STEPS.min} to ${STEPS.max}, not ${text}`;
  return null;
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
};

export const UPSCALES: Upscale[] = [1, 2, 4];

/** Folded by default: output size, and optimisation steps for the Gatys engine. */
export default function AdvancedOptions({ size, onSize, steps, onSteps, upscale = 1, onUpscale, preserve = false, onPreserve }: Props) {
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
              <Text style={styles.label}>Steps, {STEPS.min} to {STEPS.max} (empty: the server's default; more is slower and finer)</Text>
              <TextInput testID="steps" accessibilityLabel={`Optimisation steps, ${STEPS.min} to ${STEPS.max}`} keyboardType="number-pad"
                value={steps} onChangeText={(t) => onSteps(t.replace(/[^0-9]/g, ''))} placeholder="default"
                style={[styles.input, stepsProblem(steps) ? styles.bad : null]} />
              {stepsProblem(steps) ? <Text testID="steps-error" style={styles.badText}>{stepsProblem(steps)}.</Text> : null}
            </>
          ) : null}
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

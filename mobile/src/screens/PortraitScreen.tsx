// A GAN face from a seed, painted in a style. The face itself shows up as the first preview of the portrait job.
import React, { useEffect, useRef, useState } from 'react';
import { StyleSheet, Text, View } from 'react-native';
import AdvancedOptions from '../components/AdvancedOptions';
import Button from '../components/Button';
import EngineToggle from '../components/EngineToggle';
import ErrorBox from '../components/ErrorBox';
import ImageBox from '../components/ImageBox';
import Section from '../components/Section';
import StyleChooser from '../components/StyleChooser';
import { Engine, Job, newKey, Picked, submitPortrait } from '../lib/api';
import type { Entry } from '../lib/history';
import { pickImage } from '../lib/images';
import { colors, space } from '../lib/theme';
import type { StylesState } from '../lib/useStyles';

export const MAX_SEED = 2 ** 31 - 1;
export const randomSeed = () => Math.floor(Math.random() * 1_000_000);

type Props = {
  base: string;
  styles: StylesState;
  onSubmitted: (entry: Entry, job: Job) => void;
  seed0?: number;
};

export default function PortraitScreen({ base, styles: st, onSubmitted, seed0 }: Props) {
  const [seed, setSeed] = useState(() => seed0 ?? randomSeed());
  const [own, setOwn] = useState<Picked | null>(null);
  const [preset, setPreset] = useState<number | null>(null);
  const [engine, setEngine] = useState<Engine>('fast');
  const [size, setSize] = useState(512);
  const [busy, setBusy] = useState(false);
  const hasStyle = !!own || (engine === 'fast' && preset !== null);
  const ready = hasStyle && !busy;
  const [error, setError] = useState<string | null>(null);
  const key = useRef<string | null>(null);

  useEffect(() => { key.current = null; }, [seed, own, preset, engine, size, base]);

  const newFace = () => {
    const s = randomSeed();
    setSeed(s);
  };

  const submit = async () => {
    if (!hasStyle) return;
    setBusy(true);
    setError(null);
    key.current = key.current ?? newKey();
    const usePreset = own ? null : preset;
    try {
      const job = await submitPortrait(base, { seed, style: own, preset: usePreset, engine, size }, key.current);
      key.current = null;
      onSubmitted({
        id: job.id, kind: 'portrait', base, createdAt: Date.now(), status: job.status, engine, seed,
        preset: usePreset, styleName: own ? 'Your style' : st.presets.find((p) => p.id === preset)?.name,
        size, style: own,
      }, job);
    } catch (e: any) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };


  return (
    <View style={s.wrap}>
      <Section title="1. A face">
        <View style={s.row}>
          <ImageBox testID="portrait-face" uri={null} label={`Face number ${seed}`}
            placeholder={`Face #${seed}\nappears as the first preview when you paint it`} />
          <View style={s.col}>
            <Text testID="portrait-seed" style={s.seed} accessibilityLabel={`Seed ${seed}`}>Seed {seed}</Text>
            <Button testID="portrait-new-face" label="New face" onPress={newFace} accessibilityLabel="Pick another face (a new random seed)" />
          </View>
        </View>
        <Text style={s.hint}>Each seed is one face from the generator (a DCGAN trained on faces); the same seed gives the same face.</Text>
      </Section>
      <Section title="2. A style">
        <StyleChooser styles={st} preset={preset} own={own} onPreset={setPreset}
          onPickOwn={async () => {
            try { const img = await pickImage('library'); if (img) setOwn(img); } catch (e: any) { setError(e.message); }
          }}
          onClearOwn={() => setOwn(null)} needsOwn={engine === 'gatys' && !own} />
      </Section>
      <Section title="3. How to paint">
        <EngineToggle value={engine} onChange={setEngine} />
        <AdvancedOptions size={size} onSize={setSize} steps="" />
      </Section>
      {error ? <ErrorBox testID="portrait-error" message={error} onRetry={ready ? submit : undefined} /> : null}
      {!hasStyle ? <Text style={s.hint}>{engine === 'gatys' ? 'Best quality needs your own style image.' : 'Choose a style.'}</Text> : null}
      <Button testID="portrait-generate" kind="primary" label={busy ? 'Sending…' : 'Paint this face'} onPress={submit}
        disabled={!ready} busy={busy} accessibilityLabel={`Paint face ${seed} in the chosen style`} />
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  row: { flexDirection: 'row', gap: space(3), alignItems: 'center', flexWrap: 'wrap' },
  col: { gap: space(2) },
  seed: { fontSize: 18, fontWeight: '700', color: colors.ink },
  hint: { color: colors.muted, fontSize: 14 },
});

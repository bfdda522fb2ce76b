// A portrait painted in a style: a new GAN face from a seed, or the user's own photo ("From a photo"). The face
// shows beside the painting when the job is done.
import React, { useEffect, useRef, useState } from 'react';
import { Platform, Pressable, StyleSheet, Text, View } from 'react-native';
import AdvancedOptions from '../components/AdvancedOptions';
import Button from '../components/Button';
import EngineToggle from '../components/EngineToggle';
import ErrorBox from '../components/ErrorBox';
import ImageBox from '../components/ImageBox';
import Section from '../components/Section';
import StyleChooser from '../components/StyleChooser';
import { Engine, explain, Job, newKey, Picked, submitPortrait, transient, Upscale } from '../lib/api';
import type { Entry } from '../lib/history';
import { extraFields, fieldProblem } from '../lib/contract';
import { pickImage, Source } from '../lib/images';
import { colors, space } from '../lib/theme';
import type { StylesState } from '../lib/useStyles';

export const MAX_SEED = 2 ** 31 - 1;
export const randomSeed = () => Math.floor(Math.random() * 1_000_000);

type Props = {
  base: string;
  styles: StylesState;
  onSubmitted: (entry: Entry, job: Job) => void;
  seed0?: number | null;
  photo0?: Picked | null;
  notice0?: string | null; // what "run again" could not restore
};

type From = 'face' | 'photo';

export default function PortraitScreen({ base, styles: st, onSubmitted, seed0, photo0, notice0 }: Props) {
  const [from, setFrom] = useState<From>(seed0 === null || photo0 || notice0 ? 'photo' : 'face');
  const [seed, setSeed] = useState(() => seed0 ?? randomSeed());
  const [photo, setPhoto] = useState<Picked | null>(photo0 ?? null);
  const [own, setOwn] = useState<Picked | null>(null);
  const [preset, setPreset] = useState<number | null>(null);
  const [engine, setEngine] = useState<Engine>('fast');
  const [size, setSize] = useState(512);
  const [upscale, setUpscale] = useState<Upscale>(1);
  const [generator, setGenerator] = useState<string | null>(null); // null: the bundled face generator
  const generators = st.generators ?? [];
  const [extra, setExtra] = useState<Record<string, string>>({});
  const extras = extraFields(from === 'photo' ? st.contract?.portraitPhoto : st.contract?.portrait, engine);
  const badExtra = extras.map((f) => fieldProblem(f, extra[f.name] ?? '')).find(Boolean) ?? null;
  const sent = Object.fromEntries(Object.entries(extra).filter(([k, v]) => v && extras.some((f) => f.name === k)));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(notice0 ?? null);
  const hasStyle = !!own || (engine === 'fast' && preset !== null);
  const hasFace = from === 'face' || !!photo;
  const ready = hasStyle && hasFace && !badExtra && !busy;
  const [error, setError] = useState<{ text: string; retry: boolean } | null>(null);
  const key = useRef<string | null>(null);

  useEffect(() => { key.current = null; }, [from, seed, photo, own, preset, engine, size, upscale, generator, extra, base]);

  const pickPhoto = async (source: Source) => {
    setError(null);
    try {
      const img = await pickImage(source);
      if (img) { setPhoto(img); setNotice(null); }
    } catch (e: any) {
      setError({ text: e.message, retry: false });
    }
  };

  const submit = async () => {
    if (!ready) return;
    setBusy(true);
    setError(null);
    key.current = key.current ?? newKey();
    const usePreset = own ? null : preset;
    const usePhoto = from === 'photo' ? photo : null;
    try {
      const job = await submitPortrait(base, { seed: usePhoto ? null : seed, photo: usePhoto, style: own, preset: usePreset,
        engine, size, upscale, generator: usePhoto ? null : generator, extra: sent }, key.current);
      key.current = null;
      onSubmitted({
        id: job.id, kind: 'portrait', base, createdAt: Date.now(), status: job.status, engine, seed: usePhoto ? null : seed,
        preset: usePreset, styleName: own ? 'Your style' : st.presets.find((p) => p.id === preset)?.name,
        size, upscale, style: own, content: usePhoto,
      }, job);
    } catch (e: any) {
      setError({ text: explain(e), retry: transient(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <View style={s.wrap}>
      {notice ? <Text testID="portrait-notice" style={s.notice}>{notice}</Text> : null}
      <Section title="1. A face">
        <View accessibilityRole="radiogroup" accessibilityLabel="Whose face" style={s.chips}>
          {([['face', 'New face'], ['photo', 'From a photo']] as const).map(([k, label]) => (
            <Pressable key={k} testID={`portrait-from-${k}`} accessibilityRole="radio" aria-checked={from === k}
              onPress={() => setFrom(k)} style={[s.chip, from === k && s.on]}>
              <Text style={[s.chipText, from === k && s.onText]}>{label}</Text>
            </Pressable>
          ))}
        </View>
        {from === 'face' ? (
          <>
            <View style={s.row}>
              <ImageBox testID="portrait-face" uri={null} label={`Face number ${seed}`}
                placeholder={`Face #${seed}\nappears as the first preview when you paint it`} />
              <View style={s.col}>
                <Text testID="portrait-seed" style={s.seed} accessibilityLabel={`Seed ${seed}`}>Seed {seed}</Text>
                <Button testID="portrait-new-face" label="New face" onPress={() => setSeed(randomSeed())}
                  accessibilityLabel="Pick another face (a new random seed)" />
              </View>
            </View>
            <Text style={s.hint}>Each seed is one face from the generator (a DCGAN trained on faces); the same seed gives the same face.</Text>
            {generators.length ? (
              <View accessibilityRole="radiogroup" accessibilityLabel="Face generator" style={s.chips}>
                {[null, ...generators.map((g) => g.name)].map((name) => (
                  <Pressable key={name ?? '(bundled)'} testID={`generator-${name ?? 'bundled'}`} accessibilityRole="radio"
                    aria-checked={generator === name} onPress={() => setGenerator(name)} style={[s.chip, generator === name && s.on]}>
                    <Text style={[s.chipText, generator === name && s.onText]}>{name ?? 'Bundled faces'}</Text>
                  </Pressable>
                ))}
              </View>
            ) : null}
          </>
        ) : (
          <>
            <View style={s.row}>
              <ImageBox testID="portrait-photo" uri={photo?.uri} label="Your portrait photo" placeholder="No photo yet" />
              <View style={s.col}>
                <Button testID="portrait-photo-pick" label={photo ? 'Change photo' : 'Pick a photo'} onPress={() => pickPhoto('library')}
                  accessibilityLabel="Pick a portrait photo from your library" />
                {Platform.OS !== 'web' ? (
                  <Button testID="portrait-photo-camera" label="Take a photo" onPress={() => pickPhoto('camera')} />
                ) : null}
              </View>
            </View>
            <Text style={s.hint}>A photo of a face, painted in the style you choose. It goes to your server only.</Text>
          </>
        )}
      </Section>
      <Section title="2. A style">
        <StyleChooser styles={st} preset={preset} own={own} onPreset={setPreset}
          onPickOwn={async () => {
            try { const img = await pickImage('library'); if (img) setOwn(img); } catch (e: any) { setError({ text: e.message, retry: false }); }
          }}
          onClearOwn={() => setOwn(null)} needsOwn={engine === 'gatys' && !own} />
      </Section>
      <Section title="3. How to paint">
        <EngineToggle value={engine} onChange={setEngine} />
        <AdvancedOptions size={size} onSize={setSize} steps="" upscale={upscale} onUpscale={setUpscale}
          extras={extras} extra={extra} onExtra={(k, v) => setExtra((e) => ({ ...e, [k]: v }))} />
      </Section>
      {error ? <ErrorBox testID="portrait-error" message={error.text} onRetry={error.retry && ready ? submit : undefined} /> : null}
      {badExtra ? <Text testID="portrait-hint" style={s.hint}>{badExtra} (Advanced options).</Text>
        : !hasFace ? <Text testID="portrait-hint" style={s.hint}>Pick a photo of a face.</Text>
        : !hasStyle ? <Text testID="portrait-hint" style={s.hint}>{engine === 'gatys' ? 'Best quality needs your own style image.' : 'Choose a style.'}</Text> : null}
      <Button testID="portrait-generate" kind="primary" label={busy ? 'Sending…' : from === 'photo' ? 'Paint this photo' : 'Paint this face'}
        onPress={submit} disabled={!ready} busy={busy}
        accessibilityLabel={from === 'photo' ? 'Paint your photo in the chosen style' : `Paint face ${seed} in the chosen style`} />
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  row: { flexDirection: 'row', gap: space(3), alignItems: 'center', flexWrap: 'wrap' },
  col: { gap: space(2) },
  seed: { fontSize: 18, fontWeight: '700', color: colors.ink },
  hint: { color: colors.muted, fontSize: 14 },
  chips: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  chip: { minHeight: 40, paddingHorizontal: space(3), borderRadius: 20, borderWidth: 1, borderColor: colors.line, justifyContent: 'center' },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  chipText: { color: colors.ink },
  onText: { color: colors.accent, fontWeight: '700' },
  notice: { color: colors.ink, backgroundColor: '#fff6d6', borderRadius: 10, padding: space(3), fontSize: 14 },
});

import React, { useEffect, useRef, useState } from 'react';
import { Platform, StyleSheet, Text, View } from 'react-native';
import AdvancedOptions, { STEPS, stepsProblem } from '../components/AdvancedOptions';
import { extraFields, fieldProblem } from '../lib/contract';
import Button from '../components/Button';
import EngineToggle, { modelLabel } from '../components/EngineToggle';
import ErrorBox from '../components/ErrorBox';
import ImageBox from '../components/ImageBox';
import Section from '../components/Section';
import StrengthSlider from '../components/StrengthSlider';
import StyleChooser from '../components/StyleChooser';
import { Engine, explain, Job, newKey, Picked, submitStylize, transient, Upscale } from '../lib/api';
import type { Entry } from '../lib/history';
import { pickImage, Source } from '../lib/images';
import { colors, space } from '../lib/theme';
import type { StylesState } from '../lib/useStyles';

/** What "run again" hands back to the form. */
export type Draft = {
  nonce: number;
  content?: Picked | null;
  style?: Picked | null;
  preset?: number | null;
  engine?: Engine;
  strength?: number;
  size?: number;
  steps?: number | null;
  model?: string | null;
  upscale?: Upscale;
  notice?: string | null; // what could not be restored
};

type Props = {
  base: string;
  styles: StylesState;
  draft?: Draft | null;
  onSubmitted: (entry: Entry, job: Job) => void;
};

export default function StylizeScreen({ base, styles: st, draft, onSubmitted }: Props) {
  const [content, setContent] = useState<Picked | null>(null);
  const [own, setOwn] = useState<Picked | null>(null);
  const [preset, setPreset] = useState<number | null>(null);
  const [engine, setEngine] = useState<Engine>('fast');
  const [strength, setStrength] = useState(1);
  const [size, setSize] = useState(512);
  const [steps, setSteps] = useState('');
  const [model, setModel] = useState<string | null>(null);
  const [upscale, setUpscale] = useState<Upscale>(1);
  const [preserve, setPreserve] = useState(false);
  const [extra, setExtra] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; retry: boolean } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const key = useRef<string | null>(null); // kept across retries of the same submit

  useEffect(() => {
    if (!draft) return;
    if (draft.content !== undefined) setContent(draft.content);
    setOwn(draft.style ?? null);
    if (draft.preset !== undefined) setPreset(draft.preset);
    if (draft.engine) setEngine(draft.engine);
    if (draft.strength !== undefined) setStrength(draft.strength);
    if (draft.size) setSize(draft.size);
    setSteps(draft.steps ? String(draft.steps) : '');
    setModel(draft.model ?? null);
    setUpscale(draft.upscale ?? 1);
    setNotice(draft.notice ?? null);
    setError(null);
  }, [draft?.nonce]);

  // A changed form is a new submit: it gets a new Idempotency-Key.
  useEffect(() => { key.current = null; }, [content, own, preset, engine, strength, size, steps, model, upscale, preserve, extra, base]);

  // A preset starts at its own default strength (the server's); the slider changes it from there.
  const choosePreset = (id: number) => {
    setPreset(id);
    const d = st.presets.find((p) => p.id === id)?.strength;
    if (typeof d === 'number') setStrength(d);
  };

  const pick = async (source: Source, target: 'content' | 'style') => {
    setError(null);
    try {
      const img = await pickImage(source);
      if (img) (target === 'content' ? setContent : setOwn)(img);
      if (img && target === 'content') setNotice(null);
    } catch (e: any) {
      setError({ text: e.message, retry: false });
    }
  };

  const translate = engine === 'translate';
  const hasStyle = translate ? !!model : !!own || (engine === 'fast' && preset !== null);
  const stepsField = st.contract?.stylize.gatys?.steps ?? STEPS;
  const extras = extraFields(st.contract?.stylize, engine, engine !== 'gatys');
  const sent = Object.fromEntries(Object.entries(extra).filter(([k, v]) => v && extras.some((f) => f.name === k)));
  const badExtra = extras.map((f) => fieldProblem(f, extra[f.name] ?? '')).find(Boolean) ?? null;
  const badSteps = (engine === 'gatys' ? stepsProblem(steps, stepsField) : null) ?? badExtra;
  const ready = !!content && hasStyle && !badSteps && !busy;
  const missing = !content ? 'Pick a photo to paint.'
    : !hasStyle ? (engine === 'gatys' ? 'Best quality needs your own style image.' : translate ? 'Choose a photo model.' : 'Choose a style.')
    : badSteps ? `${badSteps} (Advanced options).` : null;
  const usePreset = own || engine !== 'fast' ? null : preset;
  const models = st.models ?? [];
  const chosen = models.find((m) => m.name === model);

  const submit = async () => {
    if (!content || !hasStyle) return;
    setBusy(true);
    setError(null);
    key.current = key.current ?? newKey();
    const nSteps = engine === 'gatys' && steps ? Number(steps) : null;
    try {
      const job = await submitStylize(base, translate
        ? { content, engine, model, size, upscale }
        : { content, style: own, preset: usePreset, engine, strength, size, steps: nSteps, upscale, preserveColor: preserve, extra: sent }, key.current);
      key.current = null;
      const name = translate ? (chosen ? modelLabel(chosen) : model ?? 'Photo model')
        : own ? 'Your style' : st.presets.find((p) => p.id === preset)?.name;
      onSubmitted({
        id: job.id, kind: 'stylize', base, createdAt: Date.now(), status: job.status, engine, preset: translate ? null : usePreset,
        styleName: name, strength, size, steps: nSteps, content, style: translate ? null : own, model: translate ? model : null, upscale,
      }, job);
    } catch (e: any) {
      setError({ text: explain(e), retry: transient(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <View style={s.wrap}>
      {notice ? <Text testID="draft-notice" style={s.notice}>{notice}</Text> : null}
      <Section title="1. Your photo">
        <View style={s.row}>
          <ImageBox uri={content?.uri} label="Your photo" placeholder="No photo yet" testID="content-image" />
          <View style={s.buttons}>
            <Button testID="content-pick" label={content ? 'Change photo' : 'Pick a photo'} onPress={() => pick('library', 'content')}
              accessibilityLabel="Pick a photo from your library" />
            {Platform.OS !== 'web' ? (
              <Button testID="content-camera" label="Take a photo" onPress={() => pick('camera', 'content')} />
            ) : null}
          </View>
        </View>
      </Section>
      <Section title="2. A style">
        {translate ? (
          <Text testID="translate-note" style={s.hint}>
            {chosen ? `${modelLabel(chosen)}: ` : ''}this model paints in its own style{chosen?.direction ? ` (${chosen.direction})` : ''}; no style to choose. Pick Fast or Best quality below to use a preset or your own style image.
          </Text>
        ) : (
          <StyleChooser styles={st} preset={preset} own={own} onPreset={choosePreset}
            onPickOwn={() => pick('library', 'style')} onClearOwn={() => setOwn(null)} needsOwn={engine === 'gatys' && !own} />
        )}
      </Section>
      <Section title="3. How to paint">
        <EngineToggle value={engine} onChange={setEngine} models={models} model={model} onModel={setModel} />
        {engine === 'fast' ? <StrengthSlider value={strength} onChange={setStrength} /> : engine === 'gatys' ? (
          <Text style={s.hint}>Best quality paints step by step; you can watch it and cancel at any time.</Text>
        ) : null}
        <AdvancedOptions size={size} onSize={setSize} steps={steps} onSteps={engine === 'gatys' ? setSteps : undefined}
          upscale={upscale} onUpscale={setUpscale} preserve={preserve} onPreserve={translate ? undefined : setPreserve}
          stepsField={stepsField} extras={extras} extra={extra} onExtra={(k, v) => setExtra((e) => ({ ...e, [k]: v }))} />
      </Section>
      {/* Only what can succeed unchanged (network, busy queue) offers to send it again. */}
      {error ? <ErrorBox testID="submit-error" message={error.text} onRetry={error.retry && ready ? submit : undefined} /> : null}
      {missing ? <Text testID="submit-hint" style={s.hint}>{missing}</Text> : null}
      <Button testID="submit" kind="primary" label={busy ? 'Sending…' : 'Paint it'} onPress={submit} disabled={!ready} busy={busy}
        accessibilityLabel="Paint the photo in the chosen style" />
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  row: { flexDirection: 'row', gap: space(3), alignItems: 'center', flexWrap: 'wrap' },
  buttons: { gap: space(2), flexShrink: 1 },
  hint: { color: colors.muted, fontSize: 14 },
  notice: { color: colors.ink, backgroundColor: '#fff6d6', borderRadius: 10, padding: space(3), fontSize: 14 },
});

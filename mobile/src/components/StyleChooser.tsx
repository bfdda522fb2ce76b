import React from 'react';
import { StyleSheet, Text, View } from 'react-native';
import type { Picked } from '../lib/api';
import { colors, space } from '../lib/theme';
import type { StylesState } from '../lib/useStyles';
import Button from './Button';
import ImageBox from './ImageBox';
import PresetGallery from './PresetGallery';

type Props = {
  styles: StylesState;
  preset: number | null;
  own: Picked | null;
  onPreset: (id: number) => void;
  onPickOwn: () => void;
  onClearOwn: () => void;
  needsOwn?: boolean; // Best quality (Gatys) paints from a style image; the presets are trained networks for Fast
};

/** A preset from the server's gallery, or the user's own style image (which then wins). */
export default function StyleChooser({ styles: st, preset, own, onPreset, onPickOwn, onClearOwn, needsOwn }: Props) {
  return (
    <View style={s.wrap}>
      <View style={s.own}>
        {own ? <ImageBox uri={own.uri} label="Your style image" placeholder="" size={76} testID="style-image" /> : null}
        <View style={s.ownButtons}>
          <Button testID="style-pick" label={own ? 'Change style image' : 'Use my own style image'} onPress={onPickOwn}
            accessibilityLabel="Pick your own style image from the library" />
          {own ? <Button testID="style-clear" label="Use a preset instead" onPress={onClearOwn} /> : null}
        </View>
      </View>
      {needsOwn ? (
        <Text testID="needs-own-style" style={s.note}>Best quality paints from a style image: pick your own. The presets below are for Fast.</Text>
      ) : own ? <Text style={s.note}>Your own image is used; the presets below are ignored.</Text> : null}
      <View style={own || needsOwn ? s.dim : undefined} pointerEvents={needsOwn ? 'none' : 'auto'}
        aria-disabled={!!needsOwn}>
        <PresetGallery presets={st.presets} loading={st.loading} error={st.error} selected={own || needsOwn ? null : preset}
          onSelect={(id) => { onClearOwn(); onPreset(id); }} onRetry={st.reload} />
      </View>
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(3) },
  own: { flexDirection: 'row', alignItems: 'center', gap: space(3), flexWrap: 'wrap' },
  ownButtons: { gap: space(2), flexShrink: 1 },
  note: { color: colors.muted, fontSize: 13 },
  dim: { opacity: 0.5 },
});

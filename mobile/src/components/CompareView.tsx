// Before and after side by side; tapping "Before"/"After" shows one of them large.
import React, { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import ServerImage from './ServerImage';
import { colors, space } from '../lib/theme';

type Props = { before?: string | null; after: string; beforeLabel?: string };

export default function CompareView({ before: given, after, beforeLabel = 'Before' }: Props) {
  const [only, setOnly] = useState<'before' | 'after' | null>(null);
  // A web photo is a blob: URL that dies with the page; after a reload there is no "before" to show.
  const [broken, setBroken] = useState(false);
  const before = broken ? null : given;
  const showBefore = !!before && only !== 'after';
  const showAfter = only !== 'before';
  return (
    <View style={styles.wrap}>
      {before ? (
        <View accessibilityRole="radiogroup" style={styles.row}>
          {(['before', 'after', null] as const).map((k) => (
            <Pressable key={String(k)} testID={`compare-${k ?? 'both'}`} accessibilityRole="radio"
              aria-checked={only === k} onPress={() => setOnly(k)}
              style={[styles.chip, only === k && styles.on]}>
              <Text style={[styles.chipText, only === k && styles.onText]}>{k === 'before' ? beforeLabel : k === 'after' ? 'After' : 'Side by side'}</Text>
            </Pressable>
          ))}
        </View>
      ) : null}
      <View style={styles.row}>
        {showBefore ? (
          <ServerImage testID="before-image" uri={before!} style={styles.img} resizeMode="contain"
            onError={() => { setBroken(true); setOnly(null); }}
            accessibilityLabel={beforeLabel === 'Face' ? 'The generated face' : `${beforeLabel}: your photo`} />
        ) : null}
        {showAfter ? (
          <ServerImage testID="result-image" uri={after} style={styles.img} resizeMode="contain"
            accessibilityLabel="After: the painted result" />
        ) : null}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: space(2) },
  row: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  img: { flex: 1, minWidth: 140, maxWidth: 480, aspectRatio: 1, borderRadius: 10, backgroundColor: colors.line },
  chip: { minHeight: 36, paddingHorizontal: space(3), borderRadius: 18, borderWidth: 1, borderColor: colors.line, justifyContent: 'center' },
  on: { borderColor: colors.accent, backgroundColor: '#f3edff' },
  chipText: { color: colors.ink, fontSize: 13 },
  onText: { color: colors.accent, fontWeight: '700' },
});

import React from 'react';
import { Image, StyleSheet, Text, View } from 'react-native';
import { colors } from '../lib/theme';

type Props = { uri?: string | null; placeholder: string; testID?: string; label: string; size?: number };

/** A square showing the picked image, or a dashed placeholder saying what goes there. */
export default function ImageBox({ uri, placeholder, testID, label, size = 140 }: Props) {
  return (
    <View testID={testID} style={[styles.box, { width: size, height: size }, !uri && styles.empty]}>
      {uri ? (
        <Image source={{ uri }} style={styles.img} resizeMode="cover" accessibilityLabel={label} accessibilityIgnoresInvertColors />
      ) : (
        <Text style={styles.text}>{placeholder}</Text>
      )}
    </View>
  );
}

const styles = StyleSheet.create({
  box: { borderRadius: 12, overflow: 'hidden', alignItems: 'center', justifyContent: 'center', backgroundColor: colors.card },
  empty: { borderWidth: 2, borderStyle: 'dashed', borderColor: colors.line, padding: 8 },
  img: { width: '100%', height: '100%' },
  text: { color: colors.muted, textAlign: 'center', fontSize: 13 },
});

import React from 'react';
import { StyleSheet, Text, View } from 'react-native';
import { colors, space } from '../lib/theme';

// Sections are level-2 headings under the app's one level-1 heading ("Neural Art").
export default function Section({ title, children, level = 2 }: { title: string; children: React.ReactNode; level?: number }) {
  return (
    <View style={styles.card}>
      <Text accessibilityRole="header" aria-level={level} style={styles.title}>{title}</Text>
      {children}
    </View>
  );
}

const styles = StyleSheet.create({
  card: { backgroundColor: colors.card, borderRadius: 14, padding: space(4), gap: space(3), borderWidth: 1, borderColor: colors.line },
  title: { fontSize: 17, fontWeight: '700', color: colors.ink },
});

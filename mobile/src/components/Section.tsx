import React from 'react';
import { StyleSheet, Text, View } from 'react-native';
import { colors, space } from '../lib/theme';

export default function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <View style={styles.card}>
      <Text accessibilityRole="header" style={styles.title}>{title}</Text>
      {children}
    </View>
  );
}

const styles = StyleSheet.create({
  card: { backgroundColor: colors.card, borderRadius: 14, padding: space(4), gap: space(3), borderWidth: 1, borderColor: colors.line },
  title: { fontSize: 17, fontWeight: '700', color: colors.ink },
});

import React from 'react';
import { StyleSheet, View } from 'react-native';
import { colors } from '../lib/theme';

/** fraction 0..1; null shows an empty (waiting) bar. */
export default function ProgressBar({ fraction, label }: { fraction: number | null; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction ?? 0)) * 100);
  return (
    <View
      testID="job-progress"
      accessibilityRole="progressbar"
      accessibilityLabel={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      style={styles.track}
    >
      <View style={[styles.fill, { width: `${pct}%` }]} />
    </View>
  );
}

const styles = StyleSheet.create({
  track: { height: 12, borderRadius: 6, backgroundColor: colors.line, overflow: 'hidden' },
  fill: { height: '100%', backgroundColor: colors.accent },
});

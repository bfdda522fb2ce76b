import React from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text } from 'react-native';
import { colors, space } from '../lib/theme';

type Props = {
  label: string;
  onPress: () => void;
  testID?: string;
  accessibilityLabel?: string;
  kind?: 'primary' | 'plain' | 'danger';
  disabled?: boolean;
  busy?: boolean;
};

export default function Button({ label, onPress, testID, accessibilityLabel, kind = 'plain', disabled, busy }: Props) {
  const off = disabled || busy;
  return (
    <Pressable
      testID={testID}
      accessibilityRole="button"
      accessibilityLabel={accessibilityLabel ?? label}
      aria-disabled={!!off}
      aria-busy={!!busy}
      disabled={off}
      onPress={onPress}
      style={({ pressed }) => [styles.base, styles[kind], off && styles.off, pressed && styles.pressed]}
    >
      {busy ? <ActivityIndicator color={kind === 'primary' ? colors.accentInk : colors.accent} /> : null}
      <Text style={[styles.text, kind === 'primary' && styles.primaryText, kind === 'danger' && styles.dangerText]}>
        {label}
      </Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  base: {
    minHeight: 44, // touch target
    paddingHorizontal: space(4),
    paddingVertical: space(2),
    borderRadius: 10,
    borderWidth: 1,
    borderColor: colors.line,
    alignItems: 'center',
    justifyContent: 'center',
    flexDirection: 'row',
    gap: space(2),
  },
  primary: { backgroundColor: colors.accent, borderColor: colors.accent },
  plain: { backgroundColor: colors.card },
  danger: { backgroundColor: colors.card, borderColor: colors.danger },
  off: { opacity: 0.5 },
  pressed: { opacity: 0.8 },
  text: { color: colors.ink, fontSize: 16, fontWeight: '600' },
  primaryText: { color: colors.accentInk },
  dangerText: { color: colors.danger },
});

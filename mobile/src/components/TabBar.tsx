import React from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { colors, space } from '../lib/theme';

export type Tab = 'stylize' | 'portrait' | 'history' | 'settings';
const TABS: { key: Tab; label: string }[] = [
  { key: 'stylize', label: 'Stylize' },
  { key: 'portrait', label: 'Portrait' },
  { key: 'history', label: 'History' },
  { key: 'settings', label: 'Settings' },
];

export default function TabBar({ tab, onChange }: { tab: Tab; onChange: (t: Tab) => void }) {
  return (
    <View accessibilityRole="tablist" style={styles.bar}>
      {TABS.map((t) => {
        const on = t.key === tab;
        return (
          <Pressable
            key={t.key}
            testID={`${t.key}-tab`}
            accessibilityRole="tab"
            accessibilityLabel={t.label}
            aria-selected={on}
            onPress={() => onChange(t.key)}
            style={[styles.tab, on && styles.on]}
          >
            <Text style={[styles.text, on && styles.onText]}>{t.label}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}

const styles = StyleSheet.create({
  bar: { flexDirection: 'row' },
  tab: { flex: 1, minHeight: 52, alignItems: 'center', justifyContent: 'center', borderTopWidth: 3, borderColor: 'transparent' },
  on: { borderColor: colors.accent },
  text: { color: colors.muted, fontSize: 15, fontWeight: '600' },
  onText: { color: colors.accent },
});

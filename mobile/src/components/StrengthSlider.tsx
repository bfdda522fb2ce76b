// A small dependency-free slider: tap or drag on the track, or use the -/+ buttons (and screen-reader adjust).
import React, { useRef, useState } from 'react';
import { GestureResponderEvent, LayoutChangeEvent, Pressable, StyleSheet, Text, View } from 'react-native';
import { colors, space } from '../lib/theme';

type Props = { value: number; onChange: (v: number) => void; min?: number; max?: number; step?: number };

export function snap(v: number, min: number, max: number, step: number): number {
  const clamped = Math.max(min, Math.min(max, v));
  return Math.round(Math.round((clamped - min) / step) * step * 100) / 100 + min;
}

export default function StrengthSlider({ value, onChange, min = 0, max = 1, step = 0.05 }: Props) {
  const [width, setWidth] = useState(0);
  const widthRef = useRef(0);
  const set = (v: number) => onChange(snap(v, min, max, step));
  const fromTouch = (e: GestureResponderEvent) => {
    if (widthRef.current > 0) set(min + (e.nativeEvent.locationX / widthRef.current) * (max - min));
  };
  const pct = ((value - min) / (max - min)) * 100;
  const label = `${Math.round(value * 100)}%`;
  return (
    <View style={styles.wrap}>
      <Text style={styles.title}>Strength {label}</Text>
      <View style={styles.row}>
        <Pressable testID="strength-down" accessibilityRole="button" accessibilityLabel="Less style"
          onPress={() => set(value - step)} style={styles.btn}><Text style={styles.btnText}>−</Text></Pressable>
        <View
          testID="strength"
          accessible
          accessibilityRole="adjustable"
          accessibilityLabel="Style strength"
          aria-valuemin={Math.round(min * 100)}
          aria-valuemax={Math.round(max * 100)}
          aria-valuenow={Math.round(value * 100)}
          aria-valuetext={label}
          accessibilityActions={[{ name: 'increment' }, { name: 'decrement' }]}
          onAccessibilityAction={(e) => set(value + (e.nativeEvent.actionName === 'increment' ? step : -step))}
          onLayout={(e: LayoutChangeEvent) => { widthRef.current = e.nativeEvent.layout.width; setWidth(e.nativeEvent.layout.width); }}
          onStartShouldSetResponder={() => true}
          onMoveShouldSetResponder={() => true}
          onResponderGrant={fromTouch}
          onResponderMove={fromTouch}
          style={styles.track}
        >
          <View pointerEvents="none" style={[styles.fill, { width: `${pct}%` }]} />
          <View pointerEvents="none" style={[styles.knob, { left: Math.max(0, (pct / 100) * width - 11) }]} />
        </View>
        <Pressable testID="strength-up" accessibilityRole="button" accessibilityLabel="More style"
          onPress={() => set(value + step)} style={styles.btn}><Text style={styles.btnText}>+</Text></Pressable>
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: space(1) },
  title: { fontSize: 14, color: colors.muted },
  row: { flexDirection: 'row', alignItems: 'center', gap: space(2) },
  track: { flex: 1, height: 28, justifyContent: 'center', borderRadius: 14, backgroundColor: colors.line },
  fill: { position: 'absolute', left: 0, top: 0, bottom: 0, borderRadius: 14, backgroundColor: '#c9b3ff' },
  knob: { position: 'absolute', width: 22, height: 22, borderRadius: 11, backgroundColor: colors.accent },
  btn: { width: 44, height: 44, borderRadius: 22, borderWidth: 1, borderColor: colors.line, alignItems: 'center', justifyContent: 'center', backgroundColor: colors.card },
  btnText: { fontSize: 22, color: colors.ink },
});

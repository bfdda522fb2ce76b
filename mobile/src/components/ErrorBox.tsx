import React from 'react';
import { StyleSheet, Text, View } from 'react-native';
import { colors, space } from '../lib/theme';
import Button from './Button';

type Props = { message: string; onRetry?: () => void; retryLabel?: string; testID?: string };

export default function ErrorBox({ message, onRetry, retryLabel = 'Try again', testID = 'error' }: Props) {
  return (
    <View testID={testID} accessibilityRole="alert" accessibilityLiveRegion="polite" style={styles.box}>
      <Text style={styles.text}>{message}</Text>
      {onRetry ? <Button testID={`${testID}-retry`} label={retryLabel} onPress={onRetry} kind="danger" /> : null}
    </View>
  );
}

const styles = StyleSheet.create({
  box: { backgroundColor: colors.dangerBg, borderRadius: 10, padding: space(3), gap: space(2) },
  text: { color: colors.danger, fontSize: 15 },
});

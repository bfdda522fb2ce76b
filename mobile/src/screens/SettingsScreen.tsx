import React, { useEffect, useState } from 'react';
import { StyleSheet, Text, TextInput, View } from 'react-native';
import Button from '../components/Button';
import ErrorBox from '../components/ErrorBox';
import Section from '../components/Section';
import { health } from '../lib/api';
import { defaultServer, normalizeServer } from '../lib/settings';
import { colors, space } from '../lib/theme';

type Props = { base: string; onSave: (url: string | null) => Promise<void> };

export default function SettingsScreen({ base, onSave }: Props) {
  const [text, setText] = useState(base);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setText(base), [base]);

  const save = async () => {
    setError(null);
    setNote(null);
    try {
      const url = normalizeServer(text);
      await onSave(url);
      setNote(`Saved: ${url}`);
    } catch (e: any) {
      setError(e.message);
    }
  };

  const test = async () => {
    setError(null);
    setNote(null);
    setBusy(true);
    try {
      const url = normalizeServer(text);
      const h = await health(url);
      const workers = Array.isArray(h?.workers) ? h.workers.length : h?.workers;
      setNote(`Connected to ${url}${workers !== undefined ? ` · workers: ${workers}` : ''}`);
    } catch (e: any) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <View style={s.wrap}>
      <Section title="Server">
        <Text style={s.muted}>The address of your neural-art server. On a phone use your computer's LAN address, e.g. http://192.168.1.20:5000.</Text>
        <TextInput testID="server-url" accessibilityLabel="Server URL" value={text} onChangeText={setText}
          autoCapitalize="none" autoCorrect={false} keyboardType="url" inputMode="url" placeholder={defaultServer()}
          style={s.input} onSubmitEditing={save} />
        <View style={s.row}>
          <Button testID="server-save" kind="primary" label="Save" onPress={save} />
          <Button testID="server-test" label="Test connection" onPress={test} busy={busy} />
          <Button testID="server-reset" label="Use default" onPress={async () => { setError(null); await onSave(null); setNote('Using the default server.'); }} />
        </View>
        {note ? <Text testID="settings-note" style={s.ok}>{note}</Text> : null}
        {error ? <ErrorBox testID="settings-error" message={error} /> : null}
      </Section>
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  muted: { color: colors.muted, fontSize: 14 },
  input: { borderWidth: 1, borderColor: colors.line, borderRadius: 8, padding: space(3), fontSize: 16, backgroundColor: colors.card },
  row: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  ok: { color: colors.ok },
});

import React, { useEffect, useRef, useState } from 'react';
import { Platform, StyleSheet, Text, TextInput, View } from 'react-native';
import Button from '../components/Button';
import ErrorBox from '../components/ErrorBox';
import Section from '../components/Section';
import { getSnack, health, SnackForm } from '../lib/api';
import { defaultServer, normalizeServer } from '../lib/settings';
import { colors, space } from '../lib/theme';

type Props = {
  base: string;
  apiKey?: string;
  onSave: (url: string | null) => Promise<void>;
  onSaveKey?: (key: string) => Promise<void>;
};

/** Posts the server's Snack form (GET /api/snack) to snack.expo.dev in a new tab: a real HTML form POST. */
export function openInSnack(form: SnackForm): void {
  const el = document.createElement('form');
  el.method = form.method || 'POST';
  el.action = form.url;
  el.target = '_blank';
  el.style.display = 'none';
  for (const [name, value] of Object.entries(form.fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    el.appendChild(input);
  }
  document.body.appendChild(el);
  el.submit();
  el.remove();
}

export default function SettingsScreen({ base, apiKey = '', onSave, onSaveKey }: Props) {
  const [text, setText] = useState(base);
  const [keyText, setKeyText] = useState(apiKey);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setText(base), [base]);
  useEffect(() => setKeyText(apiKey), [apiKey]);

  const save = async () => {
    setError(null);
    setNote(null);
    try {
      const url = normalizeServer(text);
      await onSave(url);
      if (onSaveKey && keyText.trim() !== apiKey) await onSaveKey(keyText);
      setNote(`Saved: ${url}${keyText.trim() ? ' · with an API key' : ''}`);
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
      const n = h?.workers?.count;
      setNote(`Connected to ${url}${typeof n === 'number' ? ` · ${n} worker${n === 1 ? '' : 's'} running` : ''}`);
    } catch (e: any) {
      setError(e.status === 401 ? `${e.message}. Enter the server's API key below, then Save.` : e.message);
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
        <Text style={s.muted}>API key: only when the server sets API_KEYS (then every request sends it). Leave empty otherwise.</Text>
        <TextInput testID="api-key" accessibilityLabel="API key" value={keyText} onChangeText={setKeyText}
          autoCapitalize="none" autoCorrect={false} secureTextEntry placeholder="(no key)" style={s.input} onSubmitEditing={save} />
        <View style={s.row}>
          <Button testID="server-save" kind="primary" label="Save" onPress={save} />
          <Button testID="server-test" label="Test connection" onPress={test} busy={busy} />
          <Button testID="server-reset" label="Use default" onPress={async () => { setError(null); await onSave(null); setNote('Using the default server.'); }} />
        </View>
        {note ? <Text testID="settings-note" style={s.ok}>{note}</Text> : null}
        {error ? <ErrorBox testID="settings-error" message={error} /> : null}
      </Section>
      {Platform.OS === 'web' ? <SnackSection base={base} apiKey={apiKey} /> : null}
    </View>
  );
}

/** "Open in Expo Snack": the form is loaded first, so the click itself submits it (a new tab is not a blocked popup). */
function SnackSection({ base, apiKey }: { base: string; apiKey: string }) {
  const [form, setForm] = useState<SnackForm | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [opened, setOpened] = useState(false);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    setForm(null);
    setError(null);
    getSnack(base).then((f) => live.current && setForm(f)).catch((e) => live.current && setError(e.message));
    return () => { live.current = false; };
  }, [base, apiKey]);

  return (
    <Section title="On your phone">
      <Text style={s.muted}>
        Open this app in Expo Snack, then scan Snack's QR code with the Expo Go app on a phone on the same network.
        The app there already knows this server{form?.server ? ` (${form.server})` : ''}.
        {apiKey ? ' Enter your API key in its Settings: keys are never put in a Snack.' : ''}
      </Text>
      {form?.warning ? <Text testID="snack-warning" style={s.warn}>{form.warning}</Text> : null}
      <Button testID="open-snack" kind="primary" label="Open in Expo Snack" disabled={!form}
        busy={!form && !error} onPress={() => { if (form) { openInSnack(form); setOpened(true); } }}
        accessibilityLabel="Open this app in Expo Snack (a new tab)" />
      {opened ? <Text testID="snack-note" style={s.ok}>Snack opened in a new tab: scan its QR code with Expo Go.</Text> : null}
      {error ? <ErrorBox testID="snack-error" message={`Could not prepare the Snack: ${error}`} /> : null}
    </Section>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  muted: { color: colors.muted, fontSize: 14 },
  input: { borderWidth: 1, borderColor: colors.line, borderRadius: 8, padding: space(3), fontSize: 16, backgroundColor: colors.card },
  row: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  ok: { color: colors.ok },
  warn: { color: colors.danger, fontSize: 14 },
});

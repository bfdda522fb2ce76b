// Neural Art: paint photos in a style, make GAN portraits, against your own server. Entry for Expo Go and Snack.
import { StatusBar } from 'expo-status-bar';
import React, { useCallback, useEffect, useState } from 'react';
import { ActivityIndicator, Platform, ScrollView, StyleSheet, Text, View } from 'react-native';
import TabBar, { Tab } from './src/components/TabBar';
import { absolute, Job, Picked, refetchPicked, setApiKey, TERMINAL } from './src/lib/api';
import { clearHistory, Entry, loadHistory, saveHistory, upsert } from './src/lib/history';
import { loadApiKey, loadServer, saveApiKey, saveServer } from './src/lib/settings';
import { colors, MAX_WIDTH, space } from './src/lib/theme';
import { useStyles } from './src/lib/useStyles';
import HistoryScreen from './src/screens/HistoryScreen';
import JobScreen from './src/screens/JobScreen';
import PortraitScreen from './src/screens/PortraitScreen';
import SettingsScreen from './src/screens/SettingsScreen';
import StylizeScreen, { Draft } from './src/screens/StylizeScreen';

type Open = { entry: Entry; job?: Job | null };

export default function App() {
  const [base, setBase] = useState<string | null>(null);
  const [apiKey, setKey] = useState('');
  const [history, setHistory] = useState<Entry[] | null>(null);
  const [tab, setTab] = useState<Tab>('stylize');
  const [open, setOpen] = useState<Open | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [portrait, setPortrait] = useState<{ nonce: number; seed?: number | null; photo?: Picked | null; notice?: string | null }>({ nonce: 0 });
  const styles = useStyles(base, apiKey);

  // Start: the server URL and the history; a job that was still running when the app closed is opened again.
  useEffect(() => {
    (async () => {
      const [url, key, list] = await Promise.all([loadServer(), loadApiKey(), loadHistory()]);
      setApiKey(key);
      setKey(key);
      setBase(url);
      setHistory(list);
      const live = list.find((e) => !TERMINAL.includes(e.status));
      if (live) setOpen({ entry: live });
    })();
  }, []);

  useEffect(() => {
    if (history) saveHistory(history).catch(() => undefined);
  }, [history]);

  const submitted = useCallback((entry: Entry, job: Job) => {
    setHistory((h) => upsert(h ?? [], entry));
    setOpen({ entry, job });
  }, []);

  const jobChanged = useCallback((job: Job) => {
    setHistory((h) => {
      const old = h?.find((e) => e.id === job.id);
      if (!h || !old || old.status === job.status) return h;
      return upsert(h, { ...old, status: job.status, error: job.error?.message ?? null });
    });
  }, []);

  const runAgain = useCallback(async (e: Entry, job?: Job | null) => {
    setOpen(null);
    // A web blob: URL without its File died with the page it came from: the server's copy (the job's urls.content)
    // when it offers one, else the user picks the photo again.
    const alive = (p?: Picked | null) => (p && (p.file || !p.uri.startsWith('blob:')) ? p : null);
    if (e.content && !alive(e.content) && job?.urls.content) {
      try {
        e = { ...e, content: await refetchPicked(absolute(e.base, job.urls.content), e.content) };
      } catch {
        // not kept on the server any more: the notice below says to pick it again
      }
    }
    if (e.kind === 'portrait') {
      const lostPhoto = e.seed == null && e.content && !alive(e.content);
      setPortrait((p) => ({ nonce: p.nonce + 1, seed: e.seed, photo: alive(e.content),
        notice: lostPhoto ? 'Your photo could not be kept after the page was reloaded (a browser forgets picked files): pick it again.' : null }));
      setTab('portrait');
    } else {
      const lost = [e.content && !alive(e.content) ? 'photo' : null, e.style && !alive(e.style) ? 'style image' : null]
        .filter(Boolean).join(' and ');
      setDraft({ nonce: Date.now(), content: alive(e.content), style: alive(e.style), preset: e.preset ?? null,
        engine: e.engine, strength: e.strength, size: e.size, steps: e.steps ?? null, model: e.model ?? null, upscale: e.upscale,
        notice: lost ? `The settings of that job are filled in. Your ${lost} could not be kept after the page was reloaded (a browser forgets picked files): pick it again.` : null });
      setTab('stylize');
    }
  }, []);

  const changeServer = useCallback(async (url: string | null) => {
    setBase(await saveServer(url));
  }, []);

  const changeKey = useCallback(async (key: string) => {
    const k = await saveApiKey(key);
    setApiKey(k);
    setKey(k);
  }, []);

  if (!base || !history) {
    return (
      <View style={[s.root, s.center]}>
        <ActivityIndicator color={colors.accent} accessibilityLabel="Loading" />
      </View>
    );
  }

  const show = (t: Tab) => (!open && tab === t ? undefined : s.hidden);
  return (
    <View style={s.root}>
      <StatusBar style="dark" />
      <ScrollView style={s.scroll} contentContainerStyle={s.content} keyboardShouldPersistTaps="handled">
        <View style={s.column}>
          <Text accessibilityRole="header" aria-level={1} style={s.brand}>Neural Art</Text>
          {!open && tab === 'stylize' ? (
            <Text testID="intro" style={s.intro}>
              Paint your photos in the style of a painting, or make portraits of faces that never existed. The painting
              happens on your own server ({base}), not in a cloud service.
            </Text>
          ) : null}
          {open ? (
            <JobScreen key={open.entry.id} entry={open.entry} initial={open.job} onChange={jobChanged}
              onRunAgain={runAgain} onClose={() => setOpen(null)} />
          ) : null}
          {/* Forms stay mounted while hidden, so a job view or another tab keeps what was picked. */}
          <View style={show('stylize')}>
            <StylizeScreen base={base} styles={styles} draft={draft} onSubmitted={submitted} />
          </View>
          <View style={show('portrait')}>
            <PortraitScreen key={portrait.nonce} seed0={portrait.seed} photo0={portrait.photo} notice0={portrait.notice}
              base={base} styles={styles} onSubmitted={submitted} />
          </View>
          {!open && tab === 'history' ? (
            <HistoryScreen history={history} onOpen={(entry) => setOpen({ entry })}
              onClear={() => { clearHistory(); setHistory([]); }} />
          ) : null}
          {!open && tab === 'settings' ? (
            <SettingsScreen base={base} apiKey={apiKey} onSave={changeServer} onSaveKey={changeKey} />
          ) : null}
        </View>
      </ScrollView>
      <View style={s.bar}>
        <View style={s.barInner}>
          <TabBar tab={tab} onChange={(t) => { setOpen(null); setTab(t); }} />
        </View>
      </View>
    </View>
  );
}

const s = StyleSheet.create({
  root: { flex: 1, backgroundColor: colors.bg, paddingTop: Platform.OS === 'web' ? 0 : 44 },
  center: { alignItems: 'center', justifyContent: 'center' },
  scroll: { flex: 1 },
  content: { padding: space(4), paddingBottom: space(10) },
  column: { width: '100%', maxWidth: MAX_WIDTH, alignSelf: 'center', gap: space(4) },
  brand: { fontSize: 24, fontWeight: '800', color: colors.ink },
  intro: { fontSize: 15, color: colors.muted, lineHeight: 21 },
  // The tab bar's buttons line up with the content column on a wide screen; the bar's background spans it all.
  bar: { borderTopWidth: 1, borderColor: colors.line, backgroundColor: colors.card },
  barInner: { width: '100%', maxWidth: MAX_WIDTH, alignSelf: 'center' },
  hidden: { display: 'none' },
});

import React, { useState } from 'react';
import { Image, Pressable, StyleSheet, Text, View } from 'react-native';
import Button from '../components/Button';
import ServerImage from '../components/ServerImage';
import { previewUrl, resultUrl } from '../lib/api';
import type { Entry } from '../lib/history';
import { colors, space } from '../lib/theme';

type Props = { history: Entry[]; onOpen: (e: Entry) => void; onClear: () => void };

const LABEL: Record<string, string> = {
  queued: 'waiting', running: 'painting…', succeeded: 'done', failed: 'failed', canceled: 'canceled',
};

function thumb(e: Entry): string | null {
  if (e.status === 'succeeded') return resultUrl(e.base, e.id, 'jpeg');
  // A canceled job keeps its last preview on the server.
  if (e.status === 'running' || e.status === 'canceled') return previewUrl(e.base, e.id, 'history');
  return e.content?.uri ?? null;
}

function Thumb({ uri }: { uri: string | null }) {
  const [broken, setBroken] = useState(false);
  if (!uri || broken) return <View style={[s.thumb, s.blank]} />;
  if (!/^https?:/.test(uri)) return <Image source={{ uri }} style={s.thumb} onError={() => setBroken(true)} />;
  return <ServerImage uri={uri} style={s.thumb} onError={() => setBroken(true)} />;
}

export default function HistoryScreen({ history, onOpen, onClear }: Props) {
  const [confirming, setConfirming] = useState(false);
  if (!history.length) {
    return (
      <View testID="history-empty" style={s.empty}>
        <Text accessibilityRole="header" aria-level={2} style={s.emptyTitle}>Nothing here yet</Text>
        <Text style={[s.muted, s.center]}>Your paintings and portraits appear here, so you can come back to them (results stay on the server for a day).</Text>
      </View>
    );
  }
  return (
    <View style={s.wrap}>
      {history.map((e) => {
        const uri = thumb(e);
        const what = e.kind === 'portrait' ? (e.seed == null ? 'Portrait from a photo' : `Portrait #${e.seed}`) : e.styleName ?? 'Stylize';
        const when = new Date(e.createdAt).toLocaleString();
        return (
          <Pressable key={e.id} testID={`history-item-${e.id}`} accessibilityRole="button"
            accessibilityLabel={`${what}, ${LABEL[e.status] ?? e.status}, ${when}. Open`}
            onPress={() => onOpen(e)} style={({ pressed }) => [s.row, pressed && s.pressed]}>
            <Thumb uri={uri} />
            <View style={s.text}>
              <Text style={s.title} numberOfLines={1}>{what}</Text>
              <Text style={s.muted} numberOfLines={1}>{e.engine === 'gatys' ? 'Best quality' : e.engine === 'translate' ? 'Photo model' : 'Fast'} · {when}</Text>
            </View>
            <Text testID={`history-status-${e.id}`} style={[s.badge, e.status === 'failed' && s.bad]}>{LABEL[e.status] ?? e.status}</Text>
          </Pressable>
        );
      })}
      {confirming ? (
        <View testID="history-clear-confirm" accessibilityRole="alert" style={s.confirm}>
          <Text style={s.title}>{history.length === 1 ? 'Clear the one job' : `Clear all ${history.length} jobs`} from this list?</Text>
          <Text style={s.muted}>This only forgets them on this device; it cannot be undone. The server deletes results after a day anyway.</Text>
          <View style={s.buttons}>
            <Button testID="history-clear-yes" kind="danger" label="Clear the list" onPress={() => { setConfirming(false); onClear(); }} />
            <Button testID="history-clear-no" label="Keep it" onPress={() => setConfirming(false)} />
          </View>
        </View>
      ) : (
        <Button testID="history-clear" label="Clear history" onPress={() => setConfirming(true)} accessibilityLabel="Clear the list of past jobs" />
      )}
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(2) },
  empty: { padding: space(6), alignItems: 'center', gap: space(2) },
  emptyTitle: { fontSize: 18, fontWeight: '700', color: colors.ink },
  row: { flexDirection: 'row', alignItems: 'center', gap: space(3), padding: space(2), borderRadius: 12, backgroundColor: colors.card, borderWidth: 1, borderColor: colors.line },
  pressed: { opacity: 0.7 },
  thumb: { width: 56, height: 56, borderRadius: 8, backgroundColor: colors.line },
  blank: {},
  text: { flex: 1, gap: 2 },
  title: { fontSize: 16, fontWeight: '600', color: colors.ink },
  muted: { fontSize: 13, color: colors.muted },
  center: { textAlign: 'center' },
  badge: { fontSize: 13, color: colors.muted },
  bad: { color: colors.danger },
  confirm: { gap: space(2), padding: space(3), borderRadius: 12, borderWidth: 1, borderColor: colors.danger, backgroundColor: colors.card },
  buttons: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
});

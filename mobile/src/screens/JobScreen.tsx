// One job: progress, live preview, cancel; then the result with compare, save/download, share, run again.
import React, { useEffect, useRef, useState } from 'react';
import { Platform, StyleSheet, Text, View } from 'react-native';
import Button from '../components/Button';
import CompareView from '../components/CompareView';
import ErrorBox from '../components/ErrorBox';
import ProgressBar from '../components/ProgressBar';
import Section from '../components/Section';
import ServerImage from '../components/ServerImage';
import { saveResult, shareResult } from '../lib/actions';
import { absolute, ApiError, cancelJob, Job, previewUrl, resultUrl, TERMINAL } from '../lib/api';
import { addSample, recentEta, Sample } from '../lib/eta';
import { fileName } from '../lib/names';
import type { Entry } from '../lib/history';
import { pollJob, Poller } from '../lib/poll';
import { colors, space } from '../lib/theme';

type Props = {
  entry: Entry;
  initial?: Job | null;
  onChange: (job: Job) => void; // keeps the history entry's status current
  onRunAgain: (entry: Entry, job?: Job | null) => void; // the job: its URLs may still have the photo
  onClose: () => void;
};

export function statusLine(job: Job | null, eta: number | null = job?.eta_seconds ?? null): string {
  if (!job) return 'Connecting…';
  const { step, total } = job.progress;
  switch (job.status) {
    case 'queued':
      return job.queue_position ? `Waiting in line (position ${job.queue_position})` : 'Waiting in line';
    case 'running': {
      if (!total) return 'Starting…';
      const left = eta != null ? ` · about ${formatEta(eta)} left` : '';
      return `Painting · step ${step}/${total}${left}`;
    }
    case 'succeeded':
      return 'Done';
    case 'canceled':
      return 'Canceled';
    case 'failed':
      return `Failed: ${job.error?.message ?? 'unknown error'}`;
  }
  return job.status;
}

export function formatEta(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export default function JobScreen({ entry, initial, onChange, onRunAgain, onClose }: Props) {
  const base = entry.base;
  const [job, setJob] = useState<Job | null>(initial ?? null);
  const [netError, setNetError] = useState<ApiError | null>(null);
  const [canceling, setCanceling] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const samples = useRef<Sample[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [previewOk, setPreviewOk] = useState<string | null>(null); // the preview URL that loaded last
  const poller = useRef<Poller | null>(null);
  // Terminal states never change: a late answer (a poll sent before the cancel) must not undo one.
  const take = (j: Job) => setJob((old) => (old && TERMINAL.includes(old.status) && old.status !== j.status ? old : j));
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const p = pollJob(base, entry.id, {
      onJob: (j) => {
        if (j.status === 'running') samples.current = addSample(samples.current, { t: Date.now(), step: j.progress.step });
        take(j); setNetError(null); changed.current(j);
      },
      onError: (e) => setNetError(e),
    });
    poller.current = p;
    return p.stop;
  }, [base, entry.id]);

  const cancel = async () => {
    setConfirming(false);
    setCanceling(true);
    setActionError(null);
    try {
      const j = await cancelJob(base, entry.id);
      take(j);
      changed.current(j);
    } catch (e: any) {
      setActionError(e.message);
    } finally {
      setCanceling(false);
      poller.current?.now();
    }
  };

  const act = async (fn: typeof saveResult) => {
    setNote(null);
    setActionError(null);
    try {
      setNote(await fn(base, entry.id, fileName(entry)));
    } catch (e: any) {
      if (e?.name !== 'AbortError') setActionError(e.message); // AbortError: the user closed the share sheet
    }
  };

  const done = job ? TERMINAL.includes(job.status) : false;
  const gone = netError?.status === 404;
  const fromPhoto = entry.kind === 'portrait' && entry.seed == null;
  const title = entry.kind === 'portrait' ? (fromPhoto ? 'Portrait · from your photo' : `Portrait · face #${entry.seed}`)
    : `Stylize · ${entry.styleName ?? 'style'}`;
  const engineName = entry.engine === 'gatys' ? 'Best quality' : entry.engine === 'translate' ? 'Photo model' : 'Fast';
  const printSize = entry.upscale && entry.upscale > 1 ? ` · print ×${entry.upscale}` : '';
  // The "before": a portrait's face (the job's urls.face; else a fast portrait's only snapshot, the raw face);
  // a photo the server keeps (urls.content), else the photo picked on this device while it is still there.
  const face = job?.urls.face ? absolute(base, job.urls.face) : null;
  const before = entry.kind === 'portrait'
    ? face ?? (fromPhoto ? entry.content?.uri ?? null : entry.engine === 'fast' ? previewUrl(base, entry.id, 'face') : null)
    : job?.urls.content ? absolute(base, job.urls.content) : entry.content?.uri ?? null;
  const beforeLost = (entry.kind !== 'portrait' || (fromPhoto && !face)) && !job?.urls.content && (!entry.content || (entry.content.uri.startsWith('blob:') && !entry.content.file));
  // A new URL per step, so each snapshot is fetched; kept while the next one loads. A canceled job keeps its last one.
  const pv = job && (job.status === 'running' || job.status === 'canceled')
    ? previewUrl(base, entry.id, job.status === 'canceled' ? 'last' : `${job.progress.step}`) : null;
  const eta = job?.status === 'running' ? recentEta(samples.current, job.progress.total) ?? job.eta_seconds : null;

  return (
    <View style={s.wrap}>
      <View style={s.head}>
        <Button testID="job-back" label="‹ Back" onPress={onClose} accessibilityLabel="Back to the form" />
        <Text accessibilityRole="header" aria-level={2} style={s.title} numberOfLines={2}>{title}</Text>
      </View>
      <Section title={done ? 'Result' : 'Progress'} level={3}>
        <Text testID="job-status" accessibilityLiveRegion="polite" style={[s.status, job?.status === 'failed' && s.failed]}>
          {gone ? 'This job is no longer on the server (results expire).' : statusLine(job, eta)}
        </Text>
        <Text style={s.meta}>{engineName} · {entry.size ?? 512} px{printSize}{entry.kind === 'portrait' && !fromPhoto ? ` · seed ${entry.seed}` : ''}</Text>
        {!done ? (
          <ProgressBar fraction={job?.progress.fraction ?? null} label={statusLine(job, eta)} />
        ) : null}
        {netError && !gone ? (
          <ErrorBox testID="job-error" message={netError.message} retryLabel="Retry now" onRetry={() => poller.current?.now()} />
        ) : null}
        {job?.status === 'canceled' && pv && previewOk !== 'none' ? (
          <View style={s.preview}>
            <ServerImage testID="job-last-preview" uri={pv} style={StyleSheet.absoluteFill} resizeMode="contain"
              onError={() => setPreviewOk('none')} accessibilityLabel="The last preview before the job was canceled" />
          </View>
        ) : null}
        {!done && pv ? (
          // The last snapshot that loaded stays underneath while the next one loads on top: no flicker.
          <View style={s.preview}>
            {previewOk && previewOk !== 'none' ? (
              <ServerImage uri={previewOk} style={StyleSheet.absoluteFill} resizeMode="contain" />
            ) : (
              <Text style={[s.meta, s.wait]}>{entry.kind === 'portrait' ? 'The face appears here first, then the painting.' : 'The first preview appears after the first steps.'}</Text>
            )}
            <ServerImage testID="job-preview" uri={pv} style={StyleSheet.absoluteFill} resizeMode="contain"
              onLoad={() => setPreviewOk(pv)} accessibilityLabel="Live preview of the painting" />
          </View>
        ) : null}
        {!done && !confirming ? (
          <Button testID="cancel" kind="danger" label="Cancel" onPress={() => setConfirming(true)} busy={canceling} disabled={!job}
            accessibilityLabel="Cancel this job" />
        ) : null}
        {!done && confirming ? (
          <View testID="cancel-confirm" style={s.confirm} accessibilityRole="alert">
            <Text style={s.status}>Stop painting? The last preview is kept; the job cannot be resumed.</Text>
            <View style={s.actions}>
              <Button testID="cancel-yes" kind="danger" label="Stop it" onPress={cancel} />
              <Button testID="cancel-no" label="Keep painting" onPress={() => setConfirming(false)} />
            </View>
          </View>
        ) : null}
        {job?.status === 'succeeded' ? (
          <>
            <CompareView before={beforeLost ? null : before} beforeLabel={entry.kind === 'portrait' ? 'Face' : 'Before'} after={resultUrl(base, entry.id)} />
            {beforeLost ? (
              <Text testID="before-lost" style={s.meta}>Your photo is not shown: this browser forgot it when the page was reloaded (the server keeps only the painting).</Text>
            ) : null}
            <View style={s.actions}>
              <Button testID="save-result" kind="primary" label={Platform.OS === 'web' ? 'Download' : 'Save to photos'} onPress={() => act(saveResult)} />
              <Button testID="share-result" label="Share" onPress={() => act(shareResult)} />
            </View>
          </>
        ) : null}
        {done ? <Button testID="run-again" label="Run again with changes" onPress={() => onRunAgain(entry, job)} /> : null}
        {note ? <Text testID="action-note" style={s.note}>{note}</Text> : null}
        {actionError ? <ErrorBox testID="action-error" message={actionError} /> : null}
      </Section>
    </View>
  );
}

const s = StyleSheet.create({
  wrap: { gap: space(4) },
  head: { flexDirection: 'row', alignItems: 'center', gap: space(3) },
  title: { flex: 1, fontSize: 18, fontWeight: '700', color: colors.ink },
  status: { fontSize: 16, color: colors.ink },
  failed: { color: colors.danger },
  meta: { fontSize: 13, color: colors.muted },
  preview: { width: '100%', aspectRatio: 1, maxHeight: 480, borderRadius: 10, backgroundColor: colors.line,
    overflow: 'hidden', alignItems: 'center', justifyContent: 'center' },
  wait: { padding: space(4), textAlign: 'center' },
  actions: { flexDirection: 'row', gap: space(2), flexWrap: 'wrap' },
  note: { color: colors.ok },
  confirm: { gap: space(2), padding: space(3), borderRadius: 10, borderWidth: 1, borderColor: colors.danger },
});

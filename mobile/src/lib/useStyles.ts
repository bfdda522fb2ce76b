import { useCallback, useEffect, useState } from 'react';
import { getStyles, Preset } from './api';

export type StylesState = { presets: Preset[]; loading: boolean; error: string | null; reload: () => void };

/** The server's preset gallery, loaded again whenever the server URL or the API key changes. */
export function useStyles(base: string | null, apiKey = ''): StylesState {
  const [presets, setPresets] = useState<Preset[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (!base) return;
    let live = true;
    setLoading(true);
    setError(null);
    getStyles(base)
      .then((list) => { if (live) setPresets(list); })
      .catch((e) => { if (live) { setPresets([]); setError(e.message); } })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [base, apiKey, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { presets, loading, error, reload };
}

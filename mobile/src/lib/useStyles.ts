import { useCallback, useEffect, useState } from 'react';
import { explain, getStyles, getTranslateModels, Preset, TranslateModel } from './api';

export type StylesState = {
  presets: Preset[];
  loading: boolean;
  error: string | null;
  reload: () => void;
  models?: TranslateModel[]; // the server's translate models (engine=translate); none: the option is not shown
};

/** The server's preset gallery and translate models, loaded again whenever the server URL or the API key changes. */
export function useStyles(base: string | null, apiKey = ''): StylesState {
  const [presets, setPresets] = useState<Preset[]>([]);
  const [models, setModels] = useState<TranslateModel[]>([]);
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
      .catch((e) => { if (live) { setPresets([]); setError(explain(e)); } })
      .finally(() => { if (live) setLoading(false); });
    // An older server without translate models: the app simply does not offer them.
    getTranslateModels(base).then((m) => live && setModels(m)).catch(() => live && setModels([]));
    return () => { live = false; };
  }, [base, apiKey, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { presets, loading, error, reload, models };
}

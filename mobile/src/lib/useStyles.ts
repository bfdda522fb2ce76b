import { useCallback, useEffect, useState } from 'react';
import { explain, Generator, getContract, getModels, getStyles, Preset, TranslateModel } from './api';
import type { Contract } from './contract';

export type StylesState = {
  presets: Preset[];
  loading: boolean;
  error: string | null;
  reload: () => void;
  models?: TranslateModel[]; // the server's translate models (engine=translate); none: the option is not shown
  generators?: Generator[]; // face generators the user trained (portraits); none: only the bundled one
  contract?: Contract | null; // the server's request contract (ranges, defaults, extra fields); null: not known
};

/** The server's preset gallery and translate models, loaded again whenever the server URL or the API key changes. */
export function useStyles(base: string | null, apiKey = ''): StylesState {
  const [presets, setPresets] = useState<Preset[]>([]);
  const [models, setModels] = useState<TranslateModel[]>([]);
  const [generators, setGenerators] = useState<Generator[]>([]);
  const [contract, setContract] = useState<Contract | null>(null);
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
    getModels(base)
      .then((m) => { if (live) { setModels(m.translate); setGenerators(m.generators); } })
      .catch(() => { if (live) { setModels([]); setGenerators([]); } });
    getContract(base).then((c) => live && setContract(c)).catch(() => live && setContract(null));
    return () => { live = false; };
  }, [base, apiKey, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { presets, loading, error, reload, models, generators, contract };
}

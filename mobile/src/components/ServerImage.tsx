// An <Image> of something the server serves (result, preview, face), sent with the API key when there is one.
import React, { useEffect, useState } from 'react';
import { Image, ImageProps, Platform } from 'react-native';
import { authHeaders, fetchImage } from '../lib/api';

type Props = Omit<ImageProps, 'source'> & { uri: string };

export default function ServerImage({ uri, onError, ...rest }: Props) {
  const headers = authHeaders();
  const local = !/^https?:/i.test(uri);
  // The web's <img> cannot send headers: fetch with the key, show the blob.
  const viaBlob = Platform.OS === 'web' && !!headers.Authorization && !local;
  const [blob, setBlob] = useState<string | null>(null);
  useEffect(() => {
    if (!viaBlob) return;
    let live = true;
    let made: string | null = null;
    fetchImage(uri)
      .then((u) => { made = u; if (live) setBlob(u); else URL.revokeObjectURL(u); })
      .catch(() => { if (live) onError?.({ nativeEvent: { error: 'load failed' } } as any); });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [uri, viaBlob]);
  if (viaBlob) return blob ? <Image source={{ uri: blob }} onError={onError} {...rest} /> : null;
  const source = !local && headers.Authorization ? { uri, headers } : { uri };
  return <Image source={source} onError={onError} {...rest} />;
}

// Keeping a result: save to photos / share on a phone; download / share link in a browser.
import * as Sharing from 'expo-sharing';
import { Platform } from 'react-native';
import { downloadResult, fetchImage, resultUrl } from './api';

/** Returns a short message for the user. `name`: the file name (names.ts). */
export async function saveResult(base: string, id: string, name = `neural-art-${id.slice(0, 8)}.png`): Promise<string> {
  if (Platform.OS === 'web') {
    // Through a blob: the file gets our name (the server's Content-Disposition filename, the job id, would win over
    // download= on a plain link, and a cross-origin download= is ignored) and the API key is sent.
    const href = await fetchImage(resultUrl(base, id));
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    a.rel = 'noopener';
    document.body.appendChild(a);
    a.click();
    a.remove();
    if (href.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(href), 60000);
    return `Download started: ${name}`;
  }
  // The legacy entry point: the root import of expo-media-library breaks on web and in Jest (SDK 56).
  const MediaLibrary = require('expo-media-library/legacy');
  const perm = await MediaLibrary.requestPermissionsAsync(true);
  if (!perm.granted) throw new Error('Photo access is off. Allow it in the system settings to save.');
  await MediaLibrary.saveToLibraryAsync(await downloadResult(base, id, name));
  return 'Saved to your photos.';
}

export async function shareResult(base: string, id: string, name?: string): Promise<string> {
  const url = resultUrl(base, id);
  if (Platform.OS === 'web') {
    const nav: any = typeof navigator !== 'undefined' ? navigator : null;
    if (nav?.share) {
      await nav.share({ title: 'Neural art', url });
      return 'Shared.';
    }
    if (nav?.clipboard?.writeText) {
      await nav.clipboard.writeText(url);
      return 'Link copied.';
    }
    return `Link: ${url}`;
  }
  if (!(await Sharing.isAvailableAsync())) throw new Error('Sharing is not available on this device.');
  await Sharing.shareAsync(await downloadResult(base, id, name), { mimeType: 'image/png', dialogTitle: 'Share painting' });
  return 'Shared.';
}

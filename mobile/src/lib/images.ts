// Picking photos (library or camera) and shrinking big ones before upload.
import * as ImagePicker from 'expo-image-picker';
import { ImageManipulator, SaveFormat } from 'expo-image-manipulator';
import { Platform } from 'react-native';
import type { Picked } from './api';

export const MAX_SIDE = 2048; // the server paints at most ~1024 px; more only costs upload time

export type Source = 'library' | 'camera';

/** Target size keeping the aspect ratio, or null when the image is small enough already. */
export function fitSize(width?: number, height?: number, max = MAX_SIDE): { width: number; height: number } | null {
  if (!width || !height || Math.max(width, height) <= max) return null;
  const scale = max / Math.max(width, height);
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

function nameFor(asset: ImagePicker.ImagePickerAsset, type: string): string {
  const ext = type === 'image/png' ? 'png' : type === 'image/webp' ? 'webp' : 'jpg';
  const base = (asset.fileName || 'photo').replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.-]+/g, '_') || 'photo';
  return `${base}.${ext}`;
}

/** The picked asset as an upload part; resized to MAX_SIDE (as JPEG) when bigger. */
export async function prepare(asset: ImagePicker.ImagePickerAsset): Promise<Picked> {
  // Checked when picked, not at upload: a file the browser cannot decode has no size.
  if ((asset.mimeType && !asset.mimeType.startsWith('image/')) || asset.width === 0 || asset.height === 0) {
    const name = asset.fileName ? `"${asset.fileName}"` : 'That file';
    throw new Error(`${name} is not an image this app can read. Pick a photo (JPEG, PNG or WebP).`);
  }
  const type = asset.mimeType && asset.mimeType.startsWith('image/') && asset.mimeType !== 'image/heic'
    ? asset.mimeType : 'image/jpeg';
  const picked: Picked = { uri: asset.uri, name: nameFor(asset, type), type, width: asset.width, height: asset.height };
  if (Platform.OS === 'web' && asset.file) picked.file = asset.file;
  const fit = fitSize(asset.width, asset.height);
  if (!fit) return picked;
  try {
    const ref = await ImageManipulator.manipulate(asset.uri).resize(fit).renderAsync();
    const out = await ref.saveAsync({ compress: 0.9, format: SaveFormat.JPEG });
    return { uri: out.uri, name: nameFor(asset, 'image/jpeg'), type: 'image/jpeg', width: out.width, height: out.height };
  } catch {
    return picked; // the server resizes too; a failed shrink only costs upload time
  }
}

/** Asks for permission, opens the library or camera; null when the user cancels. Throws with a clear message when denied. */
export async function pickImage(source: Source): Promise<Picked | null> {
  const options: ImagePicker.ImagePickerOptions = {
    mediaTypes: ['images'],
    quality: 0.92,
    exif: false,
    // iOS: hand over a JPEG rather than HEIC.
    preferredAssetRepresentationMode: ImagePicker.UIImagePickerPreferredAssetRepresentationMode.Compatible,
  };
  if (source === 'camera') {
    const perm = await ImagePicker.requestCameraPermissionsAsync();
    if (!perm.granted) throw new Error('Camera access is off. Allow it in the system settings to take a photo.');
  } else if (Platform.OS !== 'web') {
    const perm = await ImagePicker.requestMediaLibraryPermissionsAsync();
    if (!perm.granted) throw new Error('Photo access is off. Allow it in the system settings to pick a photo.');
  }
  let res: ImagePicker.ImagePickerResult;
  try {
    res = source === 'camera'
      ? await ImagePicker.launchCameraAsync(options)
      : await ImagePicker.launchImageLibraryAsync(options);
  } catch (e: any) {
    // The web picker throws "Unsupported file type: ..." for a file that is not an image at all.
    throw new Error(`That file is not an image this app can read (${e?.message ?? e}). Pick a photo (JPEG, PNG or WebP).`);
  }
  if (res.canceled || !res.assets?.length) return null;
  return prepare(res.assets[0]);
}

import * as ImagePicker from 'expo-image-picker';
import { Platform } from 'react-native';
import { fitSize, MAX_SIDE, pickImage, prepare } from '../src/lib/images';

const mockSave = jest.fn();
const mockResize = jest.fn();
jest.mock('expo-image-manipulator', () => ({
  SaveFormat: { JPEG: 'jpeg' },
  ImageManipulator: {
    manipulate: jest.fn(() => ({ resize: (size: any) => { mockResize(size); return { renderAsync: async () => ({ saveAsync: mockSave }) }; } })),
  },
}));
jest.mock('expo-image-picker', () => ({
  UIImagePickerPreferredAssetRepresentationMode: { Compatible: 'compatible' },
  requestMediaLibraryPermissionsAsync: jest.fn(),
  requestCameraPermissionsAsync: jest.fn(),
  launchImageLibraryAsync: jest.fn(),
  launchCameraAsync: jest.fn(),
}));

const os = Platform.OS;
afterEach(() => { (Platform as any).OS = os; jest.clearAllMocks(); });

test('fitSize keeps the aspect ratio and leaves small images alone', () => {
  expect(fitSize(4000, 3000)).toEqual({ width: MAX_SIDE, height: 1536 });
  expect(fitSize(1000, 5000)).toEqual({ width: 410, height: MAX_SIDE });
  expect(fitSize(2048, 1000)).toBeNull();
  expect(fitSize(undefined, 10)).toBeNull();
});

test('a big photo is shrunk to 2048 px JPEG before upload', async () => {
  mockSave.mockResolvedValue({ uri: 'file:///cache/small.jpg', width: 2048, height: 1536 });
  const out = await prepare({ uri: 'file:///big.heic', width: 4032, height: 3024, mimeType: 'image/heic', fileName: 'IMG_1.HEIC' } as any);
  expect(mockResize).toHaveBeenCalledWith({ width: 2048, height: 1536 });
  expect(mockSave).toHaveBeenCalledWith({ compress: 0.9, format: 'jpeg' });
  expect(out).toEqual({ uri: 'file:///cache/small.jpg', name: 'IMG_1.jpg', type: 'image/jpeg', width: 2048, height: 1536 });
});

test('a small PNG goes as it is; on web the File is kept for the upload', async () => {
  (Platform as any).OS = 'web';
  const file = new Blob(['x'], { type: 'image/png' });
  const out = await prepare({ uri: 'blob:http://x/1', width: 300, height: 200, mimeType: 'image/png', fileName: 'a b.png', file } as any);
  expect(mockResize).not.toHaveBeenCalled();
  expect(out).toEqual({ uri: 'blob:http://x/1', name: 'a_b.png', type: 'image/png', width: 300, height: 200, file });
});

test('pickImage: denied permission is a clear error; cancel is null; camera asks for the camera', async () => {
  (Platform as any).OS = 'ios';
  (ImagePicker.requestMediaLibraryPermissionsAsync as jest.Mock).mockResolvedValueOnce({ granted: false });
  await expect(pickImage('library')).rejects.toThrow(/Photo access is off/);
  (ImagePicker.requestMediaLibraryPermissionsAsync as jest.Mock).mockResolvedValueOnce({ granted: true });
  (ImagePicker.launchImageLibraryAsync as jest.Mock).mockResolvedValueOnce({ canceled: true, assets: null });
  expect(await pickImage('library')).toBeNull();
  expect((ImagePicker.launchImageLibraryAsync as jest.Mock).mock.calls[0][0]).toMatchObject({
    mediaTypes: ['images'], preferredAssetRepresentationMode: 'compatible',
  });
  (ImagePicker.requestCameraPermissionsAsync as jest.Mock).mockResolvedValueOnce({ granted: true });
  (ImagePicker.launchCameraAsync as jest.Mock).mockResolvedValueOnce({ canceled: false, assets: [{ uri: 'file:///c.jpg', width: 100, height: 80, mimeType: 'image/jpeg' }] });
  expect(await pickImage('camera')).toMatchObject({ uri: 'file:///c.jpg', name: 'photo.jpg', type: 'image/jpeg' });
});

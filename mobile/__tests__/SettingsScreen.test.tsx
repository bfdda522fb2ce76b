import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import React from 'react';
import * as api from '../src/lib/api';
import { fixtures } from './helpers';
import SettingsScreen from '../src/screens/SettingsScreen';

afterEach(() => jest.restoreAllMocks());

test('shows the current server; saving normalises the address', async () => {
  const onSave = jest.fn().mockResolvedValue(undefined);
  render(<SettingsScreen base="http://localhost:5000" onSave={onSave} />);
  expect(screen.getByTestId('server-url').props.value).toBe('http://localhost:5000');
  fireEvent.changeText(screen.getByTestId('server-url'), '192.168.1.20:5000/');
  fireEvent.press(screen.getByTestId('server-save'));
  await waitFor(() => expect(screen.getByTestId('settings-note')).toHaveTextContent('Saved: http://192.168.1.20:5000'));
  expect(onSave).toHaveBeenCalledWith('http://192.168.1.20:5000');
});

test('a bad address is refused with a clear message', async () => {
  const onSave = jest.fn();
  render(<SettingsScreen base="http://localhost:5000" onSave={onSave} />);
  fireEvent.changeText(screen.getByTestId('server-url'), '   ');
  fireEvent.press(screen.getByTestId('server-save'));
  await waitFor(() => expect(screen.getByTestId('settings-error')).toHaveTextContent(/Enter the server address/));
  expect(onSave).not.toHaveBeenCalled();
});

test('Test connection reports success or the failure', async () => {
  const health = jest.spyOn(api, 'health').mockResolvedValueOnce({ ...fixtures.health, workers: { count: 2, queues: ['fast', 'slow'] } })
    .mockRejectedValueOnce(new api.ApiError(0, 'network', 'The server http://x:1 is unreachable.'));
  render(<SettingsScreen base="http://localhost:5000" onSave={jest.fn()} />);
  fireEvent.press(screen.getByTestId('server-test'));
  await waitFor(() => expect(screen.getByTestId('settings-note')).toHaveTextContent('Connected to http://localhost:5000 · 2 workers running'));
  fireEvent.changeText(screen.getByTestId('server-url'), 'x:1');
  fireEvent.press(screen.getByTestId('server-test'));
  await waitFor(() => expect(screen.getByTestId('settings-error')).toHaveTextContent(/unreachable/));
  expect(health).toHaveBeenLastCalledWith('http://x:1');
});

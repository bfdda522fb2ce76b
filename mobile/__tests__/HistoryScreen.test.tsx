import { fireEvent, render, screen } from '@testing-library/react-native';
import React from 'react';
import type { Entry } from '../src/lib/history';
import HistoryScreen from '../src/screens/HistoryScreen';

const e = (id: string, extra: Partial<Entry>): Entry => ({ id, kind: 'stylize', base: 'http://s', createdAt: 1000, status: 'succeeded', engine: 'fast', ...extra });

test('empty history explains itself', () => {
  render(<HistoryScreen history={[]} onOpen={jest.fn()} onClear={jest.fn()} />);
  expect(screen.getByTestId('history-empty')).toHaveTextContent(/Nothing here yet/);
});

test('items show thumbnails and status, open on press, and can be cleared', () => {
  const onOpen = jest.fn();
  const onClear = jest.fn();
  const list = [e('a', { styleName: 'Wave' }), e('b', { kind: 'portrait', seed: 9, status: 'running', engine: 'gatys' })];
  render(<HistoryScreen history={list} onOpen={onOpen} onClear={onClear} />);
  expect(screen.getByTestId('history-status-a')).toHaveTextContent('done');
  expect(screen.getByTestId('history-status-b')).toHaveTextContent('painting…');
  expect(screen.getByLabelText(/^Portrait #9, painting…/)).toBeTruthy();
  const images = screen.UNSAFE_getAllByType(require('react-native').Image);
  expect(images.map((i: any) => i.props.source.uri)).toEqual([
    'http://s/api/jobs/a/result?format=jpeg', 'http://s/api/jobs/b/preview?v=history',
  ]);
  fireEvent.press(screen.getByTestId('history-item-b'));
  expect(onOpen).toHaveBeenCalledWith(list[1]);
  fireEvent.press(screen.getByTestId('history-clear'));
  expect(screen.getByTestId('history-clear-confirm')).toHaveTextContent(/Clear all 2 jobs/);
  fireEvent.press(screen.getByTestId('history-clear-no'));
  expect(onClear).not.toHaveBeenCalled();
  fireEvent.press(screen.getByTestId('history-clear'));
  fireEvent.press(screen.getByTestId('history-clear-yes'));
  expect(onClear).toHaveBeenCalled();
});

test('a canceled job shows its last preview; a thumbnail that fails to load leaves a blank square', () => {
  render(<HistoryScreen history={[e('c', { status: 'canceled' })]} onOpen={jest.fn()} onClear={jest.fn()} />);
  const img = screen.UNSAFE_getByType(require('react-native').Image);
  expect(img.props.source.uri).toBe('http://s/api/jobs/c/preview?v=history');
  fireEvent(img, 'error', { nativeEvent: {} });
  expect(screen.UNSAFE_queryAllByType(require('react-native').Image)).toHaveLength(0);
});

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
  expect(onClear).toHaveBeenCalled();
});

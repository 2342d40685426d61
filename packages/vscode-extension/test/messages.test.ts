import { describe, expect, it } from 'vitest';
import { DOWNLOAD_ACTIONS } from '../src/model/viewModel';
import { MAX_DROP_LENGTH, PANEL_COMMANDS, isDownloadId, parseWebviewMessage } from '../src/webview/messages';

const ID = '0b7c5e52-5a3c-4a3f-9d2c-0b0d3a1c9e11';

describe('parseWebviewMessage accepts exactly the typed union', () => {
  it('accepts ready, every action and every command', () => {
    expect(parseWebviewMessage({ type: 'ready' })).toEqual({ type: 'ready' });
    for (const action of DOWNLOAD_ACTIONS) expect(parseWebviewMessage({ type: 'action', action, id: ID })).toEqual({ type: 'action', action, id: ID });
    for (const command of PANEL_COMMANDS) expect(parseWebviewMessage({ type: 'command', command })).toEqual({ type: 'command', command });
  });
  it('accepts the panel’s new row actions and Clear completed', () => {
    for (const action of ['copyUrl', 'deleteFile', 'redownload', 'limits']) {
      expect(parseWebviewMessage({ type: 'action', action, id: ID })).toEqual({ type: 'action', action, id: ID });
    }
    expect(parseWebviewMessage({ type: 'command', command: 'clearCompleted' })).toEqual({ type: 'command', command: 'clearCompleted' });
  });
  it('accepts a drop with a uri-list, a text, or both, up to the size limit', () => {
    const uriList = 'https://a.example/f.iso\r\n';
    expect(parseWebviewMessage({ type: 'drop', uriList, text: '' })).toEqual({ type: 'drop', uriList, text: '' });
    expect(parseWebviewMessage({ type: 'drop', uriList: '', text: 'see https://a.example/x' })).toEqual({ type: 'drop', uriList: '', text: 'see https://a.example/x' });
    const big = 'x'.repeat(MAX_DROP_LENGTH);
    expect(parseWebviewMessage({ type: 'drop', uriList: big, text: big })).toEqual({ type: 'drop', uriList: big, text: big });
  });
  it('returns a copy, not the object it was given', () => {
    const raw = { type: 'action', action: 'pause', id: ID };
    const parsed = parseWebviewMessage(raw);
    raw.id = 'changed';
    expect(parsed).toEqual({ type: 'action', action: 'pause', id: ID });
  });
});

describe('parseWebviewMessage rejects every malformed message', () => {
  const inherited = Object.create({ type: 'ready' }) as object;
  class Ready {
    type = 'ready';
  }
  const cases: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['a string', 'ready'],
    ['a number', 1],
    ['an array', [{ type: 'ready' }]],
    ['a class instance', new Ready()],
    ['an inherited type', inherited],
    ['no type', {}],
    ['an unknown type', { type: 'eval', code: '1' }],
    ['a type of the wrong case', { type: 'Ready' }],
    ['ready with extra keys', { type: 'ready', id: ID }],
    ['an action without id', { type: 'action', action: 'pause' }],
    ['an action without action', { type: 'action', id: ID }],
    ['an unknown action', { type: 'action', action: 'delete', id: ID }],
    ['an action named like an Object method', { type: 'action', action: 'toString', id: ID }],
    ['an action with extra keys', { type: 'action', action: 'pause', id: ID, deleteData: true }],
    ['a numeric id', { type: 'action', action: 'pause', id: 42 }],
    ['an empty id', { type: 'action', action: 'pause', id: '' }],
    ['a path as id', { type: 'action', action: 'remove', id: '../../etc/passwd' }],
    ['an id with markup', { type: 'action', action: 'remove', id: '<img src=x>' }],
    ['an id with a newline', { type: 'action', action: 'remove', id: 'a\nb' }],
    ['an over-long id', { type: 'action', action: 'remove', id: 'a'.repeat(129) }],
    ['an id as an object', { type: 'action', action: 'remove', id: { toString: () => ID } }],
    ['an action as an array', { type: 'action', action: ['pause'], id: ID }],
    ['an unknown command', { type: 'command', command: 'workbench.action.quit' }],
    ['a command with extra keys', { type: 'command', command: 'pauseAll', args: [] }],
    ['a command without command', { type: 'command' }],
    ['clearCompleted as an action', { type: 'action', action: 'clearCompleted', id: ID }],
    ['a row action as a command', { type: 'command', command: 'deleteFile' }],
    ['deleteFile with a path instead of an id', { type: 'action', action: 'deleteFile', id: '/etc/passwd' }],
    ['a drop without text', { type: 'drop', uriList: 'https://a.example/' }],
    ['a drop without uriList', { type: 'drop', text: 'https://a.example/' }],
    ['an empty drop', { type: 'drop', uriList: '', text: '' }],
    ['a drop with a number', { type: 'drop', uriList: 5, text: '' }],
    ['a drop with an array of URLs', { type: 'drop', uriList: ['https://a.example/'], text: '' }],
    ['a drop with extra keys', { type: 'drop', uriList: 'https://a.example/', text: '', dir: '/tmp' }],
    ['an over-long uriList', { type: 'drop', uriList: 'x'.repeat(MAX_DROP_LENGTH + 1), text: '' }],
    ['an over-long text', { type: 'drop', uriList: '', text: 'x'.repeat(MAX_DROP_LENGTH + 1) }],
  ];
  for (const [what, raw] of cases) {
    it(`rejects ${what}`, () => expect(parseWebviewMessage(raw)).toBeUndefined());
  }
  it('rejects a __proto__ key smuggled in through JSON', () => {
    expect(parseWebviewMessage(JSON.parse('{"type":"ready","__proto__":{"x":1}}'))).toBeUndefined();
  });
});

describe('isDownloadId', () => {
  it('accepts UUIDs and short tokens only', () => {
    expect(isDownloadId(ID)).toBe(true);
    expect(isDownloadId('abc_DEF-123')).toBe(true);
    expect(isDownloadId('a b')).toBe(false);
    expect(isDownloadId(undefined)).toBe(false);
  });
});

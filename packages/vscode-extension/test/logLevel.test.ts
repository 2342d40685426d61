import { describe, expect, it } from 'vitest';
import { channelMethod, serviceLogLevel } from '../src/model/logLevel';

describe('the service log level follows the output channel', () => {
  it('maps VS Code levels (Off, Trace, Debug, Info, Warning, Error) to the service\'s', () => {
    expect([0, 1, 2, 3, 4, 5].map(serviceLogLevel)).toEqual(['off', 'trace', 'debug', 'info', 'warn', 'error']);
    expect(serviceLogLevel(42)).toBe('info');
  });

  it('writes each service line with the channel method of its level', () => {
    expect(channelMethod('warn')).toBe('warn');
    expect(channelMethod('trace')).toBe('trace');
  });
});

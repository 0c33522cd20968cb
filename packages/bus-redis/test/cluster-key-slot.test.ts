import { describe, expect, it } from 'vitest';
import { keySlot } from '../src/cluster/key-slot';
import { topicKey } from '../src/index';

describe('keySlot (Redis Cluster key hashing)', () => {
  it('matches the CRC16 reference value and the hash tag rules of the Redis Cluster spec', () => {
    expect(keySlot('123456789')).toBe(0x31c3 % 16384); // CRC16/XMODEM check value
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar')); // empty first tag: the whole key
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    expect(keySlot('ключ{é}')).toBe(keySlot('é')); // bytes, not UTF-16 units
  });

  it("puts a topic's stream and channel in the slot of the topic name alone, whatever the prefix", () => {
    expect(keySlot(topicKey('repopulse:', 'repo:42'))).toBe(keySlot('repo:42'));
    expect(keySlot(topicKey('other-app:', 'repo:42'))).toBe(keySlot('repo:42'));
  });
});

import { describe, expect, it } from 'vitest';
import { ForgottenTopics } from '../src/forgotten-topics';

describe('ForgottenTopics', () => {
  it('holds every topic added, and almost no other while it is not full', () => {
    const letGo = new ForgottenTopics();
    expect(letGo.mightHold('repo:1')).toBe(false);
    for (let i = 0; i < 3000; i++) letGo.add(`repo:${i}`);
    for (let i = 0; i < 3000; i++) expect(letGo.mightHold(`repo:${i}`)).toBe(true);
    let collisions = 0;
    for (let i = 0; i < 10_000; i++) if (letGo.mightHold(`other:${i}`)) collisions++;
    expect(collisions).toBeLessThan(100);
  });
});

import { jobDataWithOwner, jobOwnerPrefix } from './job-owner';

describe('jobDataWithOwner', () => {
  it('writes the owner first, whatever order the rest comes in, so the stored JSON starts with the prefix', () => {
    const owner = 'user "x",\\ 雪';
    const data = jobDataWithOwner(owner, { payload: { owner: 'not this one' }, owner: 'nor this', requestHash: 'h' });
    const json = JSON.stringify(data);
    expect(json.startsWith(jobOwnerPrefix(owner))).toBe(true);
    expect(JSON.parse(json)).toEqual({ owner, payload: { owner: 'not this one' }, requestHash: 'h' });
  });
});

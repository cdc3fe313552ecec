import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raft, type RaftConfig } from './raft';
import { seededRng } from './rng';
import { SimCluster } from './testing';
import { type Entry, type Message, emptyMessage, type Ready } from './types';

// Paper-rule tests. Each names the section of the Raft paper (extended version)
// or of Ongaro's dissertation ("diss.") it checks.

function newRaft(id: string, peers: string[], extra: Partial<RaftConfig> = {}): Raft {
  return new Raft({ id, peers, electionTick: 10, heartbeatTick: 1, rng: seededRng(1), ...extra });
}

/** Take one Ready, "persist" nothing, return it and advance. */
function flush(r: Raft): Ready {
  const rd = r.ready();
  r.advance(rd);
  return rd;
}

function msgs(r: Raft): Message[] {
  return r.hasReady() ? flush(r).messages : [];
}

function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: 'Normal', data: Buffer.from(data) };
}

function electionTimeout(r: Raft): void {
  for (let i = 0; i < 20; i++) r.tick();
}

test('§5.2: a follower that hears nothing starts an election for term+1 and votes for itself (pre-vote off)', () => {
  const r = newRaft('a', ['a', 'b', 'c'], { preVote: false });
  electionTimeout(r);
  assert.equal(r.state, 'Candidate');
  assert.equal(r.term, 1);
  assert.equal(r.vote, 'a');
  const votes = msgs(r).filter((m) => m.type === 'Vote');
  assert.deepEqual(votes.map((m) => m.to).sort(), ['b', 'c']);
  assert.ok(votes.every((m) => m.term === 1));
});

test('§5.2: a candidate with votes from a majority becomes leader and appends a no-op of its term (§8)', () => {
  const r = newRaft('a', ['a', 'b', 'c'], { preVote: false });
  electionTimeout(r);
  msgs(r);
  r.step({ ...emptyMessage('VoteResp', 'b', 'a', 1) });
  assert.equal(r.state, 'Leader');
  assert.equal(r.log.lastIndex(), 1);
  assert.equal(r.log.term(1), 1);
});

test('§5.2: each server votes for at most one candidate per term, first come first served', () => {
  const r = newRaft('c', ['a', 'b', 'c']);
  r.step({ ...emptyMessage('Vote', 'a', 'c', 1) });
  r.step({ ...emptyMessage('Vote', 'b', 'c', 1) });
  const resps = msgs(r).filter((m) => m.type === 'VoteResp');
  assert.deepEqual(resps.map((m) => [m.to, m.reject]), [['a', false], ['b', true]]);
  assert.equal(r.vote, 'a');
});

test('§5.1/Figure 2: the vote is in the hard state of the same Ready that carries the VoteResp (persist before send)', () => {
  const r = newRaft('c', ['a', 'b', 'c']);
  r.step({ ...emptyMessage('Vote', 'a', 'c', 3) });
  const rd = flush(r);
  assert.deepEqual(rd.hardState, { term: 3, vote: 'a', commit: 0 });
  assert.equal(rd.messages[0].type, 'VoteResp');
});

test('§5.1: a restarted server keeps its term and vote and does not vote twice in that term', () => {
  const r = newRaft('c', ['a', 'b', 'c'], { hardState: { term: 3, vote: 'a', commit: 0 } });
  r.step({ ...emptyMessage('Vote', 'b', 'c', 3) });
  assert.equal(msgs(r)[0].reject, true);
});

test('§5.4.1: a voter denies its vote to a candidate whose log is less up to date', () => {
  const r = newRaft('c', ['a', 'b', 'c'], { entries: [ent(1, 1), ent(2, 2)], hardState: { term: 2, vote: '', commit: 0 } });
  r.step({ ...emptyMessage('Vote', 'a', 'c', 3), index: 5, logTerm: 1 }); // longer but older last term
  assert.equal(msgs(r)[0].reject, true);
  r.step({ ...emptyMessage('Vote', 'b', 'c', 3), index: 2, logTerm: 2 }); // equally up to date
  assert.equal(msgs(r)[0].reject, false);
});

test('§5.1: a leader that sees a higher term steps down to follower', () => {
  const r = newRaft('a', ['a'], {});
  r.campaign();
  assert.equal(r.state, 'Leader');
  flush(r);
  const r3 = newRaft('a', ['a', 'b', 'c'], { preVote: false });
  electionTimeout(r3);
  r3.step({ ...emptyMessage('VoteResp', 'b', 'a', 1) });
  assert.equal(r3.state, 'Leader');
  r3.step({ ...emptyMessage('AppResp', 'b', 'a', 5) });
  assert.equal(r3.state, 'Follower');
  assert.equal(r3.term, 5);
});

test('§5.3: a follower rejects AppendEntries whose prevLogIndex/prevLogTerm do not match, with a hint', () => {
  const r = newRaft('b', ['a', 'b', 'c'], { entries: [ent(1, 1), ent(2, 1)], hardState: { term: 1, vote: '', commit: 1 } });
  r.step({ ...emptyMessage('App', 'a', 'b', 2), index: 3, logTerm: 2, entries: [ent(4, 2)], commit: 1 });
  const m = msgs(r)[0];
  assert.equal(m.reject, true);
  assert.equal(m.rejectHint, 2);
});

test('§5.3: a follower deletes a conflicting suffix and appends the leader\'s entries', () => {
  const r = newRaft('b', ['a', 'b', 'c'], { entries: [ent(1, 1), ent(2, 1, 'old'), ent(3, 1, 'old')], hardState: { term: 1, vote: '', commit: 1 } });
  r.step({ ...emptyMessage('App', 'a', 'b', 2), index: 1, logTerm: 1, entries: [ent(2, 2, 'new')], commit: 2 });
  const rd = flush(r);
  assert.equal(r.log.lastIndex(), 2);
  assert.equal(r.log.term(2), 2);
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term]), [[2, 2]]);
  assert.equal(rd.messages[0].index, 2);
  assert.equal(r.log.committed, 2);
});

test('§5.4.2/Figure 8: a leader never commits an entry of an earlier term by counting replicas', () => {
  // a is leader of term 3 with an entry of term 2 at index 2 that it replicated to b.
  const r = newRaft('a', ['a', 'b', 'c'], {
    preVote: false,
    entries: [ent(1, 1), ent(2, 2)],
    hardState: { term: 2, vote: 'a', commit: 1 },
  });
  electionTimeout(r);
  msgs(r);
  r.step({ ...emptyMessage('VoteResp', 'b', 'a', 3) });
  assert.equal(r.state, 'Leader');
  flush(r);
  // b acknowledges only index 2 (the term-2 entry): a majority holds it, but it is not committed.
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 3), index: 2 });
  assert.equal(r.log.committed, 1);
  // Once b holds the term-3 no-op at index 3, both 2 and 3 commit.
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 3), index: 3 });
  assert.equal(r.log.committed, 3);
});

test('§5.3: the leader walks nextIndex back on rejection until logs match, then replicates', () => {
  const c = new SimCluster({ seed: 7 });
  assert.ok(c.runUntil(() => c.leader() !== undefined, 200));
  const lead = c.leader()!;
  const follower = c.ids.find((id) => id !== lead)!;
  c.crash(follower);
  for (let i = 0; i < 20; i++) c.propose(lead);
  c.run(30);
  c.restart(follower);
  assert.ok(c.runUntil(() => c.raft(follower).log.committed === c.raft(lead).log.committed && c.raft(lead).log.committed >= 21, 300));
  c.checkLogMatching();
});

test('diss. §9.6 pre-vote: a partitioned follower does not inflate its term, and rejoining does not depose the leader', () => {
  const c = new SimCluster({ seed: 11 });
  assert.ok(c.runUntil(() => c.leader() !== undefined, 200));
  const lead = c.leader()!;
  const term = c.raft(lead).term;
  const other = c.ids.find((id) => id !== lead)!;
  c.isolate(other);
  c.run(200);
  assert.equal(c.raft(other).term, term, 'pre-vote keeps the isolated node at the old term');
  c.heal();
  c.run(100);
  assert.equal(c.leader(), lead);
  assert.equal(c.raft(lead).term, term);
});

test('diss. §6.2 check-quorum: a leader cut off from a majority steps down within an election timeout', () => {
  const c = new SimCluster({ seed: 3 });
  assert.ok(c.runUntil(() => c.leader() !== undefined, 200));
  const lead = c.leader()!;
  c.isolate(lead);
  c.run(25);
  assert.notEqual(c.raft(lead).state, 'Leader');
  // The majority side elects a new leader.
  assert.ok(c.runUntil(() => c.leader() !== undefined && c.leader() !== lead, 200));
});

test('diss. §6.4 read index: confirmed only after a quorum answers a heartbeat; an isolated leader cannot confirm', () => {
  const c = new SimCluster({ seed: 5 });
  assert.ok(c.runUntil(() => c.leader() !== undefined && c.raft(c.leader()!).log.committed >= 1, 200));
  const lead = c.leader()!;
  const r = c.raft(lead);
  const got = (): number[] => c.readStates.filter((x) => x.id === lead).map((x) => x.ctx);
  assert.equal(r.readIndex(42), true);
  c.run(3);
  assert.deepEqual(got(), [42]);
  c.isolate(lead);
  r.readIndex(43);
  c.run(8);
  assert.deepEqual(got(), [42], 'no confirmation without a quorum');
});

test('§5.2 single-node cluster elects itself and commits alone', () => {
  const r = newRaft('a', ['a']);
  electionTimeout(r);
  assert.equal(r.state, 'Leader');
  const rd = flush(r);
  assert.equal(rd.committedEntries.length, 1);
  assert.ok(r.propose([Buffer.from('x')]) === 2);
  const rd2 = flush(r);
  assert.deepEqual(rd2.entries.map((e) => e.index), [2]);
  assert.deepEqual(rd2.committedEntries.map((e) => e.index), [2]);
});

test('ready/advance contract: input between ready() and advance() is refused', () => {
  const r = newRaft('a', ['a', 'b', 'c']);
  electionTimeout(r);
  r.ready();
  assert.throws(() => r.tick(), /between ready\(\) and advance\(\)/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RaftConfig } from './config';
import { Raft } from './raft';
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
  assert.ok(c.runUntil(() => c.leader() !== undefined && c.raft(c.leader()!).log.term(c.raft(c.leader()!).log.committed) === c.raft(c.leader()!).term, 200));
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

test('§5.2 single-node cluster elects itself and commits alone, once its own copy is persisted (diss. §10.2.1)', () => {
  const r = newRaft('a', ['a']);
  electionTimeout(r);
  assert.equal(r.state, 'Leader');
  const rd = flush(r);
  assert.deepEqual(rd.entries.map((e) => e.index), [1]);
  assert.equal(rd.committedEntries.length, 0, 'not committed before it is stable');
  assert.deepEqual(flush(r).committedEntries.map((e) => e.index), [1]);
  assert.ok(r.propose([Buffer.from('x')]) === 2);
  const rd2 = flush(r);
  assert.deepEqual(rd2.entries.map((e) => e.index), [2]);
  assert.deepEqual(flush(r).committedEntries.map((e) => e.index), [2]);
});

test('ready/advance contract: input between ready() and advance() is refused', () => {
  const r = newRaft('a', ['a', 'b', 'c']);
  electionTimeout(r);
  r.ready();
  assert.throws(() => r.tick(), /between ready\(\) and advance\(\)/);
});

// ---------------------------------------------------------------- snapshots (§7)

function stableLeader(c: SimCluster): string {
  assert.ok(c.runUntil(() => {
    const l = c.leader();
    return l !== undefined && c.raft(l).log.term(c.raft(l).log.committed) === c.raft(l).term;
  }, 300));
  return c.leader()!;
}

test('§7: a follower that missed compacted entries gets InstallSnapshot, restores it and then replicates normally', () => {
  const c = new SimCluster({ seed: 21, snapshotCount: 5 });
  const lead = stableLeader(c);
  const lagger = c.ids.find((id) => id !== lead)!;
  c.crash(lagger);
  for (let i = 0; i < 30; i++) c.propose(lead);
  c.run(20);
  assert.ok(c.raft(lead).log.firstIndex() > 10, 'the leader compacted its log');
  const snaps: number[] = [];
  c.restart(lagger);
  const r = c.raft(lagger);
  const ready = r.ready.bind(r);
  r.ready = () => {
    const rd = ready();
    if (rd.snapshot) {
      snaps.push(rd.snapshot.meta.index);
      assert.equal(rd.committedEntries.length, 0, 'nothing is applied alongside a snapshot before it is installed');
    }
    return rd;
  };
  assert.ok(c.runUntil(() => r.log.applied === c.raft(lead).log.committed, 300));
  assert.equal(snaps.length, 1);
  assert.ok(r.log.firstIndex() > 1, 'the follower log restarts after the snapshot');
  for (let i = 0; i < 3; i++) c.propose(lead);
  assert.ok(c.runUntil(() => r.log.applied === c.raft(lead).log.lastIndex(), 100), 'replication continues after the snapshot');
  c.checkLogMatching();
});

test('§7: a snapshot at or below the follower commit index is ignored; one whose last entry it holds only advances commit', () => {
  const r = newRaft('b', ['a', 'b', 'c'], { entries: [ent(1, 1), ent(2, 1), ent(3, 1)], hardState: { term: 1, vote: '', commit: 2 } });
  const snap = (index: number, term: number) => ({ meta: { index, term, voters: ['a', 'b', 'c'] }, data: new Uint8Array(0) });
  r.step({ ...emptyMessage('Snap', 'a', 'b', 1), snapshot: snap(2, 1) });
  let rd = flush(r);
  assert.equal(rd.snapshot, undefined);
  assert.equal(rd.messages[0].index, 2);
  r.step({ ...emptyMessage('Snap', 'a', 'b', 1), snapshot: snap(3, 1) });
  rd = flush(r);
  assert.equal(rd.snapshot, undefined);
  assert.equal(r.log.committed, 3);
  assert.equal(r.log.lastIndex(), 3);
  r.step({ ...emptyMessage('Snap', 'a', 'b', 2), snapshot: snap(9, 2) });
  rd = flush(r);
  assert.equal(rd.snapshot?.meta.index, 9);
  assert.equal(r.log.lastIndex(), 9);
  assert.equal(r.log.applied, 9);
  assert.equal(rd.messages[0].type, 'AppResp');
  assert.equal(rd.messages[0].index, 9);
});

test('§7: a failed snapshot transfer is reported and the snapshot is sent again', () => {
  const c = new SimCluster({ seed: 23, snapshotCount: 4, maxDelay: 2 });
  const lead = stableLeader(c);
  const lagger = c.ids.find((id) => id !== lead)!;
  c.crash(lagger);
  for (let i = 0; i < 20; i++) c.propose(lead);
  c.run(20);
  let snapsSent = 0;
  const r = c.raft(lead);
  const ready = r.ready.bind(r);
  r.ready = () => {
    const rd = ready();
    snapsSent += rd.messages.filter((m) => m.type === 'Snap' && m.to === lagger).length;
    return rd;
  };
  c.restart(lagger);
  assert.ok(c.runUntil(() => r.progress(lagger)?.state === 'Snapshot', 50), 'a snapshot is on its way');
  c.crash(lagger); // the transfer fails: the transport reports it, the leader probes again
  c.run(30);
  c.restart(lagger);
  assert.ok(c.runUntil(() => c.raft(lagger).log.applied === r.log.committed && r.progress(lagger)?.state === 'Replicate', 300));
  assert.ok(snapsSent >= 2, `snapshot re-sent (${snapsSent} sent)`);
});

// ---------------------------------------------------------------- membership (diss. §4.1)

test('diss. §4.1: single-server changes: only one at a time, and not before the new leader has applied an entry of its term', () => {
  const r = newRaft('a', ['a', 'b', 'c'], { preVote: false });
  electionTimeout(r);
  msgs(r);
  r.step({ ...emptyMessage('VoteResp', 'b', 'a', 1) });
  assert.equal(r.state, 'Leader');
  assert.equal(r.proposeConfChange({ type: 'AddNode', nodeId: 'd', context: '' }), -1, 'the no-op is not applied yet');
  flush(r);
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 1), index: 1 });
  flush(r);
  const idx = r.proposeConfChange({ type: 'AddNode', nodeId: 'd', context: '' });
  assert.equal(idx, 2);
  assert.equal(r.proposeConfChange({ type: 'RemoveNode', nodeId: 'c', context: '' }), -1, 'one change at a time');
  flush(r);
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 1), index: 2 });
  flush(r); // commits and applies index 2: d is now a voter
  assert.deepEqual(r.peers, ['a', 'b', 'c', 'd']);
  assert.ok(r.proposeConfChange({ type: 'RemoveNode', nodeId: 'c', context: '' }) > 0);
});

test('diss. §4.1: a new server joins a running cluster (learning the configuration from the log), catches up from a snapshot and counts in the quorum', () => {
  const c = new SimCluster({ seed: 31, snapshotCount: 5 });
  const lead = stableLeader(c);
  for (let i = 0; i < 12; i++) c.propose(lead);
  c.run(10);
  const d = c.addServer();
  assert.equal(c.raft(d).promotable(), false, 'a joining server knows no configuration and does not campaign');
  assert.ok(c.proposeConfChange(lead, { type: 'AddNode', nodeId: d, context: '' }) > 0);
  assert.ok(c.runUntil(() => c.raft(d).log.applied >= c.raft(lead).log.committed && c.raft(d).promotable(), 300));
  assert.deepEqual(c.raft(d).peers, ['n1', 'n2', 'n3', 'n4']);
  // With 4 voters the quorum is 3: two of the old servers down stops commits; d makes it 3.
  const [x, y] = c.ids.filter((id) => id !== lead && id !== d);
  c.crash(x);
  c.propose(lead);
  const target = c.raft(lead).log.lastIndex();
  assert.ok(c.runUntil(() => c.raft(lead).log.committed >= target, 100), 'leader + y + d commit');
  c.crash(y);
  c.propose(lead);
  c.run(5);
  assert.ok(c.raft(lead).log.committed < c.raft(lead).log.lastIndex(), 'no quorum with 2 of 4');
});

test('diss. §4.2.2: removing the leader: it steps down once the change is committed and the rest elect a leader', () => {
  const c = new SimCluster({ seed: 41 });
  const lead = stableLeader(c);
  c.run(5);
  assert.ok(c.proposeConfChange(lead, { type: 'RemoveNode', nodeId: lead, context: '' }) > 0);
  assert.ok(c.runUntil(() => c.leader() !== undefined && c.leader() !== lead, 300));
  const next = c.leader()!;
  assert.deepEqual(c.raft(next).peers, c.ids.filter((id) => id !== lead));
  assert.equal(c.raft(lead).promotable(), false);
  c.run(100);
  assert.equal(c.leader(), next, 'the removed server does not disrupt the cluster');
});

// ---------------------------------------------------------------- leader transfer (diss. §3.10)

test('diss. §3.10: leader transfer: the target is brought up to date, gets TimeoutNow and wins at once; proposals are refused meanwhile', () => {
  const c = new SimCluster({ seed: 51 });
  const lead = stableLeader(c);
  const target = c.ids.find((id) => id !== lead)!;
  const term = c.raft(lead).term;
  c.cutLink(lead, target);
  for (let i = 0; i < 5; i++) c.propose(lead);
  c.run(3);
  c.heal();
  assert.ok(c.transferLeader(lead, target));
  assert.equal(c.raft(lead).propose([Buffer.from('x')]), 0, 'no proposals during a transfer');
  assert.ok(c.runUntil(() => c.leader() === target, 20), 'transfer completes well within an election timeout');
  assert.equal(c.raft(target).term, term + 1);
  c.checkLogMatching();
});

test('diss. §3.10: a transfer to an unreachable server is aborted after an election timeout and the leader serves again', () => {
  const c = new SimCluster({ seed: 53 });
  const lead = stableLeader(c);
  const target = c.ids.find((id) => id !== lead)!;
  c.crash(target);
  c.propose(lead);
  c.run(2);
  assert.ok(c.transferLeader(lead, target));
  assert.equal(c.raft(lead).transferee, target);
  c.run(12);
  assert.equal(c.raft(lead).transferee, '');
  assert.equal(c.leader(), lead);
  assert.ok(c.propose(lead));
});

test('§5.3 with pipelining: appends lost to a crashed follower fill the window; a heartbeat answer frees a slot so it is probed and catches up', () => {
  const r = newRaft('a', ['a', 'b', 'c'], { preVote: false, maxInflightMsgs: 2 });
  electionTimeout(r);
  msgs(r);
  r.step({ ...emptyMessage('VoteResp', 'b', 'a', 1) });
  assert.equal(r.state, 'Leader');
  msgs(r); // the no-op (index 1) goes out
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 1), index: 1 }); // b is in Replicate now
  msgs(r);
  const toB = (ms: Message[]): Message[] => ms.filter((m) => m.to === 'b' && m.type === 'App');
  // b crashes: three proposals, no answers. Two appends fill the window, the third is held.
  assert.equal(r.propose([Buffer.from('x')]), 2);
  assert.equal(toB(msgs(r)).length, 1);
  assert.equal(r.propose([Buffer.from('y')]), 3);
  assert.equal(toB(msgs(r)).length, 1);
  assert.equal(r.propose([Buffer.from('z')]), 4);
  assert.equal(toB(msgs(r)).length, 0, 'window full');
  // b restarts with only the no-op and answers a heartbeat.
  r.tick();
  assert.ok(msgs(r).some((m) => m.to === 'b' && m.type === 'Heartbeat'));
  r.step({ ...emptyMessage('HeartbeatResp', 'b', 'a', 1) });
  const sent = toB(msgs(r));
  assert.equal(sent.length, 1, 'an append goes out again');
  // It does not match b's log: b rejects with its last index, the leader probes from there and replicates.
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 1), index: sent[0].index, reject: true, rejectHint: 1 });
  const retry = toB(msgs(r));
  assert.equal(retry.length, 1);
  assert.equal(retry[0].index, 1);
  assert.deepEqual(retry[0].entries.map((e) => e.index), [2, 3, 4]);
  r.step({ ...emptyMessage('AppResp', 'b', 'a', 1), index: 4 });
  assert.equal(r.progress('b')!.match, 4);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseSchedulerConfig, type PluginCatalog } from './config';
import { defaultProfile, pluginNamed } from './plugins/registry';

const catalog: PluginCatalog = { defaults: defaultProfile(), named: (n) => pluginNamed(n) };
const HEAD = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';
const parse = (body: string) => parseSchedulerConfig(HEAD + body, catalog);
const filters = (c: ReturnType<typeof parse>, i = 0) => c.profiles[i].profile.filters.map((f) => f.name);
const scores = (c: ReturnType<typeof parse>, i = 0) => c.profiles[i].profile.scores.map((s) => `${s.name}:${s.weight}`);

test('no profiles: one default profile named default-scheduler with every default plugin', () => {
  const c = parse('');
  assert.equal(c.profiles.length, 1);
  assert.equal(c.profiles[0].schedulerName, 'default-scheduler');
  assert.deepEqual(filters(c), defaultProfile().filters.map((f) => f.name));
  assert.deepEqual(scores(c), defaultProfile().scores.map((s) => `${s.name}:${s.weight}`));
  assert.equal(c.profiles[0].preemption, true);
});

test('profiles by schedulerName; disabled, enabled with weights, "*" and percentageOfNodesToScore', () => {
  const c = parse(`percentageOfNodesToScore: 30
profiles:
  - schedulerName: default-scheduler
  - schedulerName: no-scores
    percentageOfNodesToScore: 100
    plugins:
      score:
        disabled:
          - name: '*'
      filter:
        disabled:
          - name: TaintToleration
      postFilter:
        disabled:
          - name: DefaultPreemption
  - schedulerName: weighted
    plugins:
      score:
        disabled:
          - name: NodeResourcesFit
        enabled:
          - name: NodeResourcesBalancedAllocation
            weight: 5
          - name: NodeResourcesFit
            weight: 2
`);
  assert.deepEqual(c.profiles.map((p) => p.schedulerName), ['default-scheduler', 'no-scores', 'weighted']);
  assert.equal(c.percentageOfNodesToScore, 30);
  assert.equal(c.profiles[1].percentageOfNodesToScore, 100);
  assert.deepEqual(scores(c, 1), []);
  assert.ok(!filters(c, 1).includes('TaintToleration'));
  assert.equal(c.profiles[1].preemption, false);
  const defaults = defaultProfile().scores.map((x) => `${x.name}:${x.weight}`);
  assert.deepEqual(scores(c, 2), [...defaults.filter((x) => !x.startsWith('NodeResourcesFit:')).map((x) => (x.startsWith('NodeResourcesBalancedAllocation:') ? 'NodeResourcesBalancedAllocation:5' : x)), 'NodeResourcesFit:2'], 'a re-enabled default keeps its place; disabled then enabled goes last');
  assert.equal(c.profiles[0].profile.scores.find((x) => x.name === 'NodeResourcesFit')!.weight, 1, 'the shared plugin object is not changed by a weight');
});

test('multiPoint: disabling everything then enabling one filter', () => {
  const c = parse(`profiles:
  - plugins:
      multiPoint:
        disabled: [{ name: '*' }]
        enabled: [{ name: NodePorts }, { name: NodeResourcesFit, weight: 3 }]
`);
  assert.deepEqual(filters(c), ['NodePorts', 'NodeResourcesFit'], 'NodeResourcesFit is a filter and a score, as upstream');
  assert.deepEqual(scores(c), ['NodeResourcesFit:3']);
});

test('bad files: the error names the field', () => {
  const cases: [string, string | RegExp][] = [
    ['profiles: [{ plugins: { filter: { enabled: [{ name: NoSuchPlugin }] } } }]', /^profiles\[0\]\.plugins\.filter\.enabled\[0\]\.name: no plugin named "NoSuchPlugin"/],
    ['profiles: [{ plugins: { score: { enabled: [{ name: NodePorts }] } } }]', /^profiles\[0\]\.plugins\.score\.enabled\[0\]\.name: "NodePorts" is not a score plugin/],
    ['profiles: [{ plugins: { score: { enabled: [{ name: NodeResourcesFit, weight: -1 }] } } }]', /^profiles\[0\]\.plugins\.score\.enabled\[0\]\.weight: /],
    ['profiles: [{ plugins: { filter: { disabled: [{ name: Bogus }] } } }]', /^profiles\[0\]\.plugins\.filter\.disabled\[0\]\.name: no plugin named "Bogus"/],
    ['profiles: [{ plugins: { filters: {} } }]', /^profiles\[0\]\.plugins\.filters: unknown field/],
    ['profiles: [{ schedulerName: a }, { schedulerName: a }]', /^profiles\[1\]\.schedulerName: duplicate value "a"/],
    ['percentageOfNodesToScore: 101', /^percentageOfNodesToScore: 101 is not an integer in the range \[0-100\]/],
    ['profiles: [{ percentageOfNodesToScore: -1 }]', /^profiles\[0\]\.percentageOfNodesToScore: /],
    ['profile: []', /^profile: unknown field/],
    ['profiles: {}', /^profiles: must be a list/],
  ];
  for (const [body, want] of cases) assert.throws(() => parse(body), (e: Error) => e instanceof ConfigError && (typeof want === 'string' ? e.message === want : want.test(e.message)), body);
  assert.throws(() => parseSchedulerConfig('apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n', catalog), /apiVersion: must be kubescheduler.config.k8s.io\/v1/);
  assert.throws(() => parseSchedulerConfig('apiVersion: [', catalog), /: not valid YAML/);
});

test('upstream plugins this scheduler lacks may be disabled; built-ins accepted at their points', () => {
  const c = parse(`profiles:
  - plugins:
      filter: { disabled: [{ name: VolumeRestrictions }] }
      queueSort: { enabled: [{ name: PrioritySort }] }
      bind: { enabled: [{ name: DefaultBinder }] }
    pluginConfig:
      - name: NodeResourcesFit
        args: {}
`);
  assert.equal(c.profiles.length, 1);
  assert.match(c.warnings.join('\n'), /pluginConfig\[0\]: arguments of NodeResourcesFit are not supported/);
});

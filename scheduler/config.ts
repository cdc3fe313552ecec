import YAML from 'yaml';
import type { FilterPlugin, ScorePlugin } from './framework';
import type { Profile } from './plugins/registry';

export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** One profile: the pods whose spec.schedulerName is `schedulerName` are placed with `profile`. */
export interface SchedulerProfile {
  schedulerName: string;
  profile: Profile;
  /** This profile's percentageOfNodesToScore (absent: the top-level one). */
  percentageOfNodesToScore?: number;
  /** Whether the PostFilter (DefaultPreemption) runs after a failed attempt. */
  preemption: boolean;
}

/** What `coxswain scheduler --config FILE` reads from a KubeSchedulerConfiguration. */
export interface SchedulerConfig {
  profiles: SchedulerProfile[];
  /** 0 or absent: adaptive. */
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  /** Fields accepted but not acted on (to be logged). */
  warnings: string[];
}

/** A config file that cannot be used; the message names the field and the reason. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The plugins a profile can name: the default profile, and lookup by name (plugins/registry.ts). */
export interface PluginCatalog {
  defaults: Profile;
  named(name: string): { filter?: FilterPlugin; score?: ScorePlugin } | undefined;
}

/**
 * kube-scheduler's in-tree plugins that Coxswain has built in (`BUILT_IN`: queue sort, binding
 * and preemption are part of the scheduler, not registry plugins) or does not have; naming
 * the latter is accepted only in `disabled`, where it is a no-op.
 */
const BUILT_IN = new Set(['PrioritySort', 'DefaultBinder', 'DefaultPreemption']);
const UPSTREAM = new Set([
  'SchedulingGates', 'NodeName', 'NodePorts', 'NodeAffinity', 'NodeUnschedulable', 'TaintToleration', 'NodeResourcesFit',
  'NodeResourcesBalancedAllocation', 'VolumeRestrictions', 'NodeVolumeLimits', 'VolumeBinding', 'VolumeZone',
  'PodTopologySpread', 'InterPodAffinity', 'ImageLocality', 'DynamicResources', 'EBSLimits', 'GCEPDLimits', 'AzureDiskLimits', 'CinderLimits',
]);
const EXTENSION_POINTS = ['multiPoint', 'queueSort', 'preEnqueue', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const;
type ExtensionPoint = (typeof EXTENSION_POINTS)[number];
const TOP_LEVEL = [
  'apiVersion', 'kind', 'profiles', 'percentageOfNodesToScore', 'podInitialBackoffSeconds', 'podMaxBackoffSeconds',
  'parallelism', 'leaderElection', 'clientConnection', 'healthzBindAddress', 'metricsBindAddress', 'enableProfiling', 'enableContentionProfiling', 'delayCacheUntilActive', 'extenders',
];
const IGNORED_TOP_LEVEL = ['parallelism', 'leaderElection', 'clientConnection', 'healthzBindAddress', 'metricsBindAddress', 'enableProfiling', 'enableContentionProfiling', 'delayCacheUntilActive'];

interface PluginRef {
  name: string;
  weight?: number;
}
interface PluginSet {
  enabled: PluginRef[];
  disabled: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(field: string, reason: string): never {
  throw new ConfigError(`${field}: ${reason}`);
}

function onlyKnown(o: Obj, known: readonly string[], at: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(at ? `${at}.${k}` : k, `unknown field (known: ${known.join(', ')})`);
}

function percentage(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) fail(field, `${JSON.stringify(v)} is not an integer in the range [0-100]`);
  return v;
}

function positive(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(field, `${JSON.stringify(v)} is not a positive integer`);
  return v;
}

function pluginSet(v: unknown, at: string): PluginSet {
  if (v === undefined || v === null) return { enabled: [], disabled: [] };
  if (!isObj(v)) fail(at, 'must be an object with enabled and disabled lists');
  onlyKnown(v, ['enabled', 'disabled'], at);
  const list = (name: 'enabled' | 'disabled'): PluginRef[] => {
    const l = v[name];
    if (l === undefined || l === null) return [];
    if (!Array.isArray(l)) fail(`${at}.${name}`, 'must be a list of {name, weight}');
    return l.map((p: unknown, i) => {
      const f = `${at}.${name}[${i}]`;
      if (!isObj(p)) fail(f, 'must be an object with a name');
      onlyKnown(p, ['name', 'weight'], f);
      if (typeof p.name !== 'string' || p.name === '') fail(`${f}.name`, 'required');
      if (p.weight !== undefined && (typeof p.weight !== 'number' || !Number.isInteger(p.weight) || p.weight < 0 || p.weight > 100)) fail(`${f}.weight`, `${JSON.stringify(p.weight)} is not an integer in the range [0-100]`);
      if (name === 'disabled' && p.weight !== undefined) fail(`${f}.weight`, 'a disabled plugin has no weight');
      return { name: p.name, weight: p.weight as number | undefined };
    });
  };
  return { enabled: list('enabled'), disabled: list('disabled').map((p) => p.name) };
}

/**
 * kube-scheduler's merge of a default plugin list with a configured set: `disabled` removes
 * defaults (`*` all of them); an enabled default keeps its place with the configured weight;
 * other enabled plugins are appended in order.
 */
function merge(defaults: PluginRef[], set: PluginSet): PluginRef[] {
  const disabled = new Set(set.disabled);
  const custom = new Map(set.enabled.map((p, i) => [p.name, i] as const));
  const replaced = new Set<number>();
  const out: PluginRef[] = [];
  if (!disabled.has('*')) {
    for (const d of defaults) {
      if (disabled.has(d.name)) continue;
      const i = custom.get(d.name);
      if (i !== undefined) {
        replaced.add(i);
        out.push({ name: d.name, weight: set.enabled[i].weight ?? d.weight });
      } else out.push(d);
    }
  }
  set.enabled.forEach((p, i) => {
    if (!replaced.has(i)) out.push(p);
  });
  return out;
}

/** Builds one profile from its `plugins` field. */
function buildProfile(raw: Obj, at: string, catalog: PluginCatalog): { profile: Profile; preemption: boolean } {
  const plugins = raw.plugins;
  if (plugins !== undefined && plugins !== null && !isObj(plugins)) fail(`${at}.plugins`, 'must be an object of extension points');
  const p = (plugins ?? {}) as Obj;
  onlyKnown(p, EXTENSION_POINTS, `${at}.plugins`);
  const sets = Object.fromEntries(EXTENSION_POINTS.map((e) => [e, pluginSet(p[e], `${at}.plugins.${e}`)])) as Record<ExtensionPoint, PluginSet>;
  // Every name must exist; unknown upstream plugins may only be disabled.
  for (const e of EXTENSION_POINTS) {
    sets[e].enabled.forEach((ref, i) => {
      const field = `${at}.plugins.${e}.enabled[${i}].name`;
      const found = catalog.named(ref.name);
      if (BUILT_IN.has(ref.name)) {
        if (e === 'filter' || e === 'score') fail(field, `${JSON.stringify(ref.name)} is not a ${e} plugin`);
        return;
      }
      if (!found) fail(field, `no plugin named ${JSON.stringify(ref.name)}${UPSTREAM.has(ref.name) ? ' in this scheduler' : ''}`);
      if ((e === 'filter' || e === 'preFilter') && !found.filter) fail(field, `${JSON.stringify(ref.name)} is not a filter plugin`);
      if ((e === 'score' || e === 'preScore') && !found.score) fail(field, `${JSON.stringify(ref.name)} is not a score plugin`);
      if (ref.weight !== undefined && e !== 'score' && e !== 'multiPoint') fail(`${at}.plugins.${e}.enabled[${i}].weight`, 'only score plugins have a weight');
    });
    sets[e].disabled.forEach((name, i) => {
      if (name !== '*' && !BUILT_IN.has(name) && !UPSTREAM.has(name) && !catalog.named(name)) fail(`${at}.plugins.${e}.disabled[${i}].name`, `no plugin named ${JSON.stringify(name)}`);
    });
  }
  const multi = (kind: 'filter' | 'score'): PluginSet => ({
    enabled: sets.multiPoint.enabled.filter((r) => !BUILT_IN.has(r.name) && catalog.named(r.name)?.[kind]),
    disabled: sets.multiPoint.disabled,
  });
  const filterNames = merge(merge(catalog.defaults.filters.map((f) => ({ name: f.name })), multi('filter')), sets.filter);
  const scoreRefs = merge(merge(catalog.defaults.scores.map((s) => ({ name: s.name, weight: s.weight })), multi('score')), sets.score);
  const dup = (refs: PluginRef[], e: string) => {
    const seen = new Set<string>();
    for (const r of refs) {
      if (seen.has(r.name)) fail(`${at}.plugins.${e}`, `plugin ${JSON.stringify(r.name)} is enabled twice`);
      seen.add(r.name);
    }
  };
  dup(filterNames, 'filter');
  dup(scoreRefs, 'score');
  const filters = filterNames.map((r) => catalog.named(r.name)!.filter!);
  const scores = scoreRefs.map((r) => {
    const s = catalog.named(r.name)!.score!;
    // A weight of 0 (or none) keeps the plugin's default weight, as kube-scheduler does.
    return r.weight && r.weight !== s.weight ? (Object.assign(Object.create(s) as ScorePlugin, { weight: r.weight }) as ScorePlugin) : s;
  });
  const noPreemption = ['postFilter', 'multiPoint'].some((e) => sets[e as ExtensionPoint].disabled.some((n) => n === '*' || n === 'DefaultPreemption'))
    && !sets.postFilter.enabled.some((r) => r.name === 'DefaultPreemption');
  return { profile: { filters, scores }, preemption: !noPreemption };
}

/**
 * Parses a KubeSchedulerConfiguration (YAML or JSON) into profiles built from `catalog`.
 * Throws ConfigError naming the field (`profiles[0].plugins.score.enabled[1].name: ...`).
 * No profiles (or an empty list): one default profile named default-scheduler, as kube-scheduler.
 */
export function parseSchedulerConfig(text: string, catalog: PluginCatalog): SchedulerConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) fail('(document)', 'must be a KubeSchedulerConfiguration object');
  if (doc.apiVersion !== CONFIG_API_VERSION) fail('apiVersion', `must be ${CONFIG_API_VERSION}, got ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== 'KubeSchedulerConfiguration') fail('kind', `must be KubeSchedulerConfiguration, got ${JSON.stringify(doc.kind)}`);
  onlyKnown(doc, TOP_LEVEL, '');
  const warnings = IGNORED_TOP_LEVEL.filter((k) => doc[k] !== undefined).map((k) => `${k}: accepted but not used (set it with the command-line flags)`);
  if (Array.isArray(doc.extenders) && doc.extenders.length > 0) fail('extenders', 'scheduler extenders are not supported');
  const cfg: SchedulerConfig = {
    profiles: [],
    percentageOfNodesToScore: percentage(doc.percentageOfNodesToScore, 'percentageOfNodesToScore'),
    podInitialBackoffSeconds: positive(doc.podInitialBackoffSeconds, 'podInitialBackoffSeconds'),
    podMaxBackoffSeconds: positive(doc.podMaxBackoffSeconds, 'podMaxBackoffSeconds'),
    warnings,
  };
  if ((cfg.podMaxBackoffSeconds ?? 10) < (cfg.podInitialBackoffSeconds ?? 1)) fail('podMaxBackoffSeconds', 'must be at least podInitialBackoffSeconds');
  const raw = doc.profiles === undefined || doc.profiles === null || (Array.isArray(doc.profiles) && doc.profiles.length === 0) ? [{}] : doc.profiles;
  if (!Array.isArray(raw)) fail('profiles', 'must be a list');
  const names = new Set<string>();
  raw.forEach((p: unknown, i) => {
    const at = `profiles[${i}]`;
    if (!isObj(p)) fail(at, 'must be an object');
    onlyKnown(p, ['schedulerName', 'plugins', 'pluginConfig', 'percentageOfNodesToScore'], at);
    const name = p.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    if (typeof name !== 'string' || name === '') fail(`${at}.schedulerName`, 'must be a non-empty string');
    if (names.has(name)) fail(`${at}.schedulerName`, `duplicate value ${JSON.stringify(name)}`);
    names.add(name);
    if (p.pluginConfig !== undefined) {
      if (!Array.isArray(p.pluginConfig)) fail(`${at}.pluginConfig`, 'must be a list of {name, args}');
      p.pluginConfig.forEach((c: unknown, j) => {
        if (!isObj(c) || typeof c.name !== 'string') fail(`${at}.pluginConfig[${j}].name`, 'required');
        if (!catalog.named(c.name) && !UPSTREAM.has(c.name) && !BUILT_IN.has(c.name)) fail(`${at}.pluginConfig[${j}].name`, `no plugin named ${JSON.stringify(c.name)}`);
        warnings.push(`${at}.pluginConfig[${j}]: arguments of ${c.name} are not supported; its defaults are used`);
      });
    }
    const built = buildProfile(p, at, catalog);
    cfg.profiles.push({ schedulerName: name, ...built, percentageOfNodesToScore: percentage(p.percentageOfNodesToScore, `${at}.percentageOfNodesToScore`) });
  });
  return cfg;
}

/** The configuration without a file: one default profile named `schedulerName`. */
export function defaultSchedulerConfig(catalog: PluginCatalog, schedulerName = DEFAULT_SCHEDULER_NAME): SchedulerConfig {
  return { profiles: [{ schedulerName, profile: catalog.defaults, preemption: true }], warnings: [] };
}

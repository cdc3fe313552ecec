/** One pod: its containers and state, its logs (followed), and a terminal (exec over WebSocket). */
import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorFrom, lines } from '../api';
import { Status, Table } from '../components';
import { age, podReady, podStatus } from '../format';
import type { PodView } from '../types';
import { useList } from '../watch';
import { deletePodButton } from './overview';
import type { TerminalProps } from './terminal';

const MAX_LOG_CHARS = 2_000_000;

export function Pod(props: { namespace: string; name: string; tab?: string }) {
  const { namespace, name } = props;
  const list = useList<PodView>(`/api/v1/namespaces/${namespace}/pods?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`);
  const pod = list.items[0];
  const containers = pod?.spec.containers.map((c) => c.name) ?? [];
  const [container, setContainer] = useState<string | undefined>(undefined);
  const chosen = container ?? containers[0];
  const tab = props.tab ?? 'logs';
  const base = `#/pods/${namespace}/${name}`;
  return (
    <main>
      <h1>
        Pod {namespace}/{name}
      </h1>
      <Status {...list} />
      {!list.loading && !pod ? <p class="warn">pod {name} not found in namespace {namespace} (deleted?)</p> : null}
      {pod ? (
        <>
          <p>
            {podStatus(pod)} · ready {podReady(pod)} · node {pod.spec.nodeName ?? '<none>'} · IP {pod.status?.podIP ?? '<none>'} · age {age(pod.metadata.creationTimestamp)}{' '}
            {deletePodButton(pod)}
          </p>
          <Table
            caption="Containers"
            headers={['NAME', 'IMAGE', 'READY', 'RESTARTS', 'STATE']}
            rows={pod.spec.containers.map((c) => {
              const s = pod.status?.containerStatuses?.find((x) => x.name === c.name);
              const state = s?.state?.running ? 'Running' : s?.state?.waiting ? `Waiting: ${s.state.waiting.reason ?? ''}` : s?.state?.terminated ? `Terminated: ${s.state.terminated.reason ?? ''}` : '';
              return { key: c.name, cells: [c.name, c.image ?? '', s?.ready ? 'true' : 'false', s?.restartCount ?? 0, state] };
            })}
          />
        </>
      ) : null}
      <nav class="tabs">
        <a href={`${base}/logs`} class={tab === 'logs' ? 'active' : undefined}>
          Logs
        </a>
        <a href={`${base}/exec`} class={tab === 'exec' ? 'active' : undefined}>
          Terminal
        </a>
        {containers.length > 1 ? (
          <label>
            container{' '}
            <select name="container" value={chosen} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
              {containers.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </nav>
      {chosen && tab === 'logs' ? <Logs key={`logs-${chosen}`} namespace={namespace} name={name} container={chosen} /> : null}
      {chosen && tab === 'exec' ? <LazyTerminal key={`exec-${chosen}`} namespace={namespace} name={name} container={chosen} /> : null}
    </main>
  );
}

/** The container's log, followed (the log subresource with follow=true) until the page leaves. */
function Logs(props: { namespace: string; name: string; container: string }) {
  const [text, setText] = useState('');
  const [state, setState] = useState('connecting…');
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    const url = `/api/v1/namespaces/${props.namespace}/pods/${props.name}/log?container=${encodeURIComponent(props.container)}&follow=true&tailLines=1000`;
    (async () => {
      const res = await fetch(url, { signal: abort.signal });
      if (!res.ok) throw await errorFrom(res);
      setState('following');
      let buf = '';
      let timer: ReturnType<typeof setTimeout> | undefined;
      for await (const line of lines(res, abort.signal)) {
        buf += line + '\n';
        // Batch the lines of one burst into one render.
        timer ??= setTimeout(() => {
          timer = undefined;
          const add = buf;
          buf = '';
          setText((t) => (t.length + add.length > MAX_LOG_CHARS ? (t + add).slice(-MAX_LOG_CHARS) : t + add));
        }, 50);
      }
      setState('ended (the container stopped or the stream closed)');
    })().catch((err: Error) => {
      if (!abort.signal.aborted) setState(`error: ${err.message}`);
    });
    return () => abort.abort();
  }, [props.namespace, props.name, props.container]);
  useEffect(() => {
    const el = pre.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <section>
      <p class="muted" id="log-state">
        logs of {props.container}: {state}
      </p>
      <pre id="logs" ref={pre} class="logs">
        {text}
      </pre>
    </section>
  );
}

/** xterm.js is most of the bundle: it is loaded when a terminal is first opened, not with the page. */
function LazyTerminal(props: TerminalProps) {
  const [Comp, setComp] = useState<FunctionComponent<TerminalProps> | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    import('./terminal').then((m) => setComp(() => m.Terminal)).catch((err: Error) => setError(err.message));
  }, []);
  if (error) return <p class="warn">cannot load the terminal: {error}</p>;
  return Comp ? <Comp {...props} /> : <p class="muted">loading the terminal…</p>;
}

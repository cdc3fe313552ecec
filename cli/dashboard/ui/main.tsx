/** The dashboard's single page: a hash router over the views, rendered into #app. */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBanner } from './components';
import { setNamespace, useNamespace } from './namespace';
import type { KubeObject } from './types';
import { useList } from './watch';
import { Events } from './views/events';
import { Network } from './views/network';
import { Nodes } from './views/nodes';
import { Overview } from './views/overview';
import { Pod } from './views/pod';
import { Workloads } from './views/workloads';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Route(props: { hash: string }) {
  const parts = props.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'nodes':
      return <Nodes name={parts[1]} />;
    case 'workloads':
      return <Workloads />;
    case 'network':
      return <Network />;
    case 'events':
      return <Events />;
    case 'pods':
      if (parts[1] && parts[2]) return <Pod key={`${parts[1]}/${parts[2]}`} namespace={parts[1]} name={parts[2]} tab={parts[3]} />;
      return <Overview />;
    default:
      return <Overview />;
  }
}

const LINKS: [string, string][] = [
  ['#/', 'Overview'],
  ['#/nodes', 'Nodes'],
  ['#/workloads', 'Workloads'],
  ['#/network', 'Services & Ingresses'],
  ['#/events', 'Events'],
];

/** The namespace picker: empty for all namespaces; the namespaces are offered when the user may list them. */
function NamespacePicker() {
  const ns = useNamespace();
  const namespaces = useList<KubeObject>('/api/v1/namespaces');
  return (
    <label class="ns">
      namespace{' '}
      <input
        name="namespace"
        list="namespace-list"
        placeholder="all namespaces"
        value={ns}
        onChange={(e) => setNamespace((e.target as HTMLInputElement).value)}
      />
      <datalist id="namespace-list">
        {namespaces.items.map((n) => (
          <option key={n.metadata.name} value={n.metadata.name} />
        ))}
      </datalist>
    </label>
  );
}

function App() {
  const hash = useHash();
  const top = `#/${hash.replace(/^#\/?/, '').split('/')[0]}`;
  return (
    <>
      <header>
        <span class="brand">Coxswain</span>
        <nav>
          {LINKS.map(([href, label]) => (
            <a key={href} href={href} class={top === href ? 'active' : undefined} aria-current={top === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <NamespacePicker />
      </header>
      <ErrorBanner />
      <Route hash={hash} />
    </>
  );
}

render(<App />, document.getElementById('app')!);

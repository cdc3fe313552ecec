/** Shared pieces: the error banner, tables, and buttons that ask RBAC first. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useCan, type Access } from './access';

type Listener = (msg: string | undefined) => void;
const errorListeners = new Set<Listener>();

/** Shows `msg` (a server's refusal, usually) in the page's alert banner. */
export function showError(msg: string | undefined): void {
  for (const l of errorListeners) l(msg);
}

export function ErrorBanner() {
  const [msg, setMsg] = useState<string | undefined>(undefined);
  useEffect(() => {
    errorListeners.add(setMsg);
    return () => void errorListeners.delete(setMsg);
  }, []);
  if (!msg) return null;
  return (
    <div id="error" class="error" role="alert">
      <span>{msg}</span>
      <button type="button" onClick={() => setMsg(undefined)} aria-label="dismiss">
        ×
      </button>
    </div>
  );
}

export function Table(props: { id?: string; caption?: string; headers: string[]; rows: { key: string; cells: ComponentChildren[] }[]; empty?: string }) {
  return (
    <table id={props.id}>
      {props.caption ? <caption>{props.caption}</caption> : null}
      <thead>
        <tr>
          {props.headers.map((h) => (
            <th key={h} scope="col">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 ? (
          <tr class="empty">
            <td colSpan={props.headers.length}>{props.empty ?? 'none'}</td>
          </tr>
        ) : (
          props.rows.map((r) => (
            <tr key={r.key} data-key={r.key}>
              {r.cells.map((c, i) => (
                <td key={i}>{c}</td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/**
 * A button for one API call: disabled until a SelfSubjectAccessReview says the
 * user may use it (with the reason as its title when the answer is no); a refused call shows the
 * server's message in the banner.
 */
export function ActionButton(props: { access: Access; label: string; name?: string; run: () => Promise<unknown>; confirm?: string; danger?: boolean }) {
  const allowed = useCan(props.access);
  const [busy, setBusy] = useState(false);
  const what = `${props.access.verb} ${props.access.resource}${props.access.subresource ? `/${props.access.subresource}` : ''}`;
  const onClick = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    try {
      await props.run();
      showError(undefined);
    } catch (err) {
      showError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      name={props.name}
      class={props.danger ? 'danger' : undefined}
      disabled={allowed !== true || busy}
      title={allowed === false ? `you may not ${what} in this namespace` : undefined}
      onClick={() => void onClick()}
    >
      {props.label}
    </button>
  );
}

export function Status(props: { loading: boolean; error?: string }) {
  if (props.error) return <p class="warn">{props.error}</p>;
  if (props.loading) return <p class="muted">loading…</p>;
  return null;
}

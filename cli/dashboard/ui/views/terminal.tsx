/** sh in a container, over the exec subresource's v5.channel.k8s.io WebSocket, in xterm.js. */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface TerminalProps {
  namespace: string;
  name: string;
  container: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A terminal running sh in the container; the session ends when the component unmounts. */
export function Terminal(props: TerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState('connecting…');
  useEffect(() => {
    const term = new XTerm({ convertEol: false, cursorBlink: true, fontSize: 13 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    fit.fit();
    const q = new URLSearchParams({ container: props.container, command: 'sh', stdin: 'true', stdout: 'true', tty: 'true' });
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/namespaces/${props.namespace}/pods/${props.name}/exec?${q}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    ws.binaryType = 'arraybuffer';
    const send = (channel: number, data: Uint8Array) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const msg = new Uint8Array(data.length + 1);
      msg[0] = channel;
      msg.set(data, 1);
      ws.send(msg);
    };
    const resize = () => send(4, enc.encode(JSON.stringify({ Width: term.cols, Height: term.rows })));
    ws.onopen = () => {
      setState(`connected (${ws.protocol})`);
      resize();
      term.focus();
    };
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer);
      if (data.length === 0) return;
      const body = data.subarray(1);
      if (data[0] === 1 || data[0] === 2) term.write(body);
      else if (data[0] === 3) {
        const s = JSON.parse(dec.decode(body)) as { status?: string; message?: string };
        if (s.status !== 'Success') term.write(`\r\n\x1b[31m${s.message ?? 'exec failed'}\x1b[0m\r\n`);
      }
    };
    ws.onclose = (ev) => setState(`closed${ev.reason ? `: ${ev.reason}` : ''}`);
    ws.onerror = () => setState('error: the exec connection failed (see the dashboard server output)');
    const input = term.onData((d) => send(0, enc.encode(d)));
    const onResize = () => {
      fit.fit();
      resize();
    };
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      input.dispose();
      ws.close();
      term.dispose();
    };
  }, [props.namespace, props.name, props.container]);
  return (
    <section>
      <p class="muted" id="exec-state">
        terminal in {props.container}: {state}
      </p>
      <div id="terminal" class="terminal" ref={host} />
    </section>
  );
}

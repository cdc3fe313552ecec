/** The proxy's Ingress ports, as `coxswain up`, `server` and `agent` pass them on. */
export interface IngressPorts {
  httpPort: number;
  httpsPort: number;
}

/** The proxy flags for its Ingress server (`--no-ingress` when off). */
export function ingressProxyArgs(ingress: IngressPorts | undefined): string[] {
  return ingress ? ['--ingress-http-port', String(ingress.httpPort), '--ingress-https-port', String(ingress.httpsPort)] : ['--no-ingress'];
}

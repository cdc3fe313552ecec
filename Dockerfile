# One image for every Coxswain component: `coxswain <component>` is the entrypoint.
# Offline machines: `npm run images:offline` seeds a local stand-in for the base image.
FROM node:20-bookworm-slim
WORKDIR /opt/coxswain
# The proxy puts ClusterIPs on lo with `ip`; the kubelet wires pods with iproute2 (`ip -batch`, `ip -j`) and iptables
# (checked by path: a busybox shell would run its own `ip` applet, which has neither).
RUN { /usr/sbin/ip -j link >/dev/null 2>&1 && /usr/sbin/iptables -V >/dev/null 2>&1; } || (apt-get update && apt-get install -y --no-install-recommends iproute2 iptables && rm -rf /var/lib/apt/lists/*)
COPY . .
# Reuse node_modules from the build context when present (offline builds); otherwise install.
RUN if [ ! -d node_modules/typescript ]; then npm ci --no-audit --no-fund; fi \
 && node node_modules/typescript/bin/tsc -p . \
 && node scripts/bundle-dashboard.js --no-check \
 && ln -sf /opt/coxswain/bin/coxswain.js /usr/local/bin/coxswain \
 && ln -sf /opt/coxswain/bin/coxctl.js /usr/local/bin/coxctl
ENV COXSWAIN_HOME=/var/lib/coxswain
ENTRYPOINT ["node", "/opt/coxswain/bin/coxswain.js"]
CMD ["--help"]

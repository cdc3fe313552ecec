import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import type { Logger } from 'pino';
import { Forwarder } from './forward';
import type { DnsMetrics } from './metrics';
import { resolve } from './resolve';
import type { Zone } from './zone';

/**
 * One DNS message in, one out (or none): decode, answer from the zone or
 * forward upstream, encode, truncate for UDP. Knows no sockets; `server.ts`
 * feeds it. Never throws: a message it cannot read gets FORMERR when its header
 * is readable and is dropped otherwise (with a rate-limited log line).
 */
export type Transport = 'udp' | 'tcp';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
const RCODE_NAMES = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k])) as Record<number, string>;

const QR = 0x8000;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;

/** A plain UDP client may take 512 bytes (RFC 1035); EDNS sizes are honoured up to this. */
const MAX_UDP = 4096;
/** The UDP size this server advertises in its OPT record (the DNS flag day's 1232). */
const OUR_UDP_SIZE = 1232;

export interface HandlerOptions {
  zone: () => Zone;
  forwarder: Forwarder;
  metrics?: DnsMetrics;
  logger: Logger;
  /** Minimum ms between two log lines about malformed messages. */
  logIntervalMs?: number;
}

/** A bare header answering `query` with `rcode` and no sections (for messages that did not decode). */
function headerOnly(query: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  // keep the opcode and RD of the query
  out.writeUInt16BE(QR | (query.readUInt16BE(2) & 0x7900) | RA | rcode, 2);
  return out;
}

/** Answers kept per zone snapshot; past this many, the cache starts over. */
const CACHE_MAX = 10_000;

export class DnsHandler {
  private lastLog = 0;
  private suppressed = 0;
  /**
   * Encoded cluster answers by query (transport + every byte after the ID), valid for one zone
   * snapshot: a repeated query skips decode, lookup and encode (the wire library's encode is the
   * costliest step). Forwarded answers are never kept (their TTLs are upstream's).
   */
  private cache = new Map<string, Buffer>();
  private cacheZone?: Zone;

  constructor(private readonly opts: HandlerOptions) {}

  async handle(msg: Buffer, transport: Transport): Promise<Buffer | undefined> {
    const t0 = process.hrtime.bigint();
    let zoneLabel = 'cluster';
    const out = await this.answer(msg, transport, (z) => (zoneLabel = z));
    if (out && out.length >= 4 && this.opts.metrics) {
      const rcode = out.readUInt16BE(2) & 0xf;
      this.opts.metrics.observe(transport, zoneLabel, RCODE_NAMES[rcode] ?? String(rcode), Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return out;
  }

  private malformed(msg: Buffer, transport: Transport, reason: string): Buffer | undefined {
    this.opts.metrics?.malformed.inc({ protocol: transport });
    const now = Date.now();
    if (now - this.lastLog >= (this.opts.logIntervalMs ?? 10_000)) {
      this.opts.logger.warn({ transport, bytes: msg.length, reason, suppressed: this.suppressed }, 'malformed DNS message');
      this.lastLog = now;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
    // A readable query header gets FORMERR; anything else (too short, or a response) is dropped.
    return msg.length >= 12 && (msg[2]! & 0x80) === 0 ? headerOnly(msg, RCODE.FORMERR) : undefined;
  }

  private async answer(msg: Buffer, transport: Transport, setZone: (z: string) => void): Promise<Buffer | undefined> {
    let zone: Zone;
    try {
      zone = this.opts.zone();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'cluster DNS zone build failed');
      return msg.length >= 12 ? headerOnly(msg, RCODE.SERVFAIL) : undefined;
    }
    if (zone !== this.cacheZone) {
      this.cache.clear();
      this.cacheZone = zone;
    }
    const key = msg.length >= 12 ? transport + msg.toString('latin1', 2) : '';
    const hit = key && this.cache.get(key);
    if (hit) {
      const out = Buffer.from(hit);
      out.writeUInt16BE(msg.readUInt16BE(0), 0);
      return out;
    }
    let req: DecodedPacket & { opcode?: string };
    try {
      req = dnsPacket.decode(msg) as DecodedPacket & { opcode?: string };
    } catch (err) {
      return this.malformed(msg, transport, (err as Error).message);
    }
    if (req.flag_qr) return undefined; // a response sent to us: never answered
    if (req.opcode !== 'QUERY') return headerOnly(msg, RCODE.NOTIMP);
    const questions = req.questions ?? [];
    if (questions.length !== 1) return this.malformed(msg, transport, `${questions.length} questions`);
    const q = questions[0]!;
    const opt = (req.additionals ?? []).find((a) => a.type === 'OPT');
    const limit = transport === 'tcp' ? 65535 : opt && 'udpPayloadSize' in opt ? Math.min(Math.max(opt.udpPayloadSize, 512), MAX_UDP) : 512;
    const reply = (rcode: Rcode, sections: { aa?: boolean; answers?: Answer[]; authorities?: Answer[]; additionals?: Answer[] }): Buffer => {
      const extra: Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: OUR_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
      const packet: Packet = {
        type: 'response',
        id: req.id,
        flags: (sections.aa ? AA : 0) | (req.flag_rd ? RD : 0) | RA | RCODE[rcode],
        questions: [q],
        answers: sections.answers ?? [],
        authorities: sections.authorities ?? [],
        additionals: [...(sections.additionals ?? []), ...extra],
      };
      const full = dnsPacket.encode(packet);
      if (full.length <= limit) return full;
      // Additional records are optional: drop them first; still too big → TC, the client asks again over TCP.
      const lean = dnsPacket.encode({ ...packet, additionals: extra });
      if (lean.length <= limit) return lean;
      this.opts.metrics?.truncated.inc();
      return dnsPacket.encode({ ...packet, flags: packet.flags! | TC, answers: [], authorities: [], additionals: extra });
    };
    if ((q.type as string) === 'AXFR' || (q.type as string) === 'IXFR') return reply('NOTIMP', {});
    let res;
    try {
      res = resolve(zone, q);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message, name: q.name, type: q.type }, 'cluster DNS lookup failed');
      return reply('SERVFAIL', {});
    }
    if (res.kind === 'forward') {
      setZone('forward');
      try {
        return await this.opts.forwarder.forward(msg, transport);
      } catch (err) {
        this.opts.logger.debug({ err: (err as Error).message, name: q.name }, 'upstream DNS failed');
        return reply('SERVFAIL', {});
      }
    }
    const answers = [...res.answers];
    if (res.chase) answers.push(...(await this.chase(res.chase, req.flag_rd)));
    const out = reply(res.rcode, { aa: res.authoritative, answers, authorities: res.authorities, additionals: res.additionals });
    if (!res.chase && key) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, out);
    }
    return out;
  }

  /** An ExternalName's target, asked upstream; its answers or nothing (the client can still follow the CNAME itself). */
  private async chase(q: Question, rd: boolean): Promise<Answer[]> {
    try {
      const query = dnsPacket.encode({ type: 'query', id: 0, flags: rd ? RD : 0, questions: [q] });
      const answer = dnsPacket.decode(await this.opts.forwarder.forward(query, 'udp'));
      return (answer.answers ?? []).filter((a) => a.type !== 'OPT');
    } catch {
      return [];
    }
  }
}

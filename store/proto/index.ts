import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Directory holding the .proto files. They ship as source (store/proto/*.proto);
 * compiled code runs from dist/store/..., so look beside this file first, then in
 * the source tree.
 */
export const PROTO_DIR: string = (() => {
  const candidates = [__dirname, path.resolve(__dirname, '../../../store/proto')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'etcd.proto'))) return c;
  throw new Error(`store: cannot find etcd.proto (looked in ${candidates.join(', ')})`);
})();

/** One host of the multi-host test bed (see bed.ts): a network namespace with its own dockerd. */
export interface BedHost {
  /** 'h1', 'h2', ... */
  name: string;
  /** '<prefix>-h1': the namespace, at /run/netns/<netns>; its root-side veth has the same name. */
  netns: string;
  /** Its address on the bed bridge (a /24), on its eth0, which carries its default route. */
  ip: string;
  /** Its own folder: dockerd data and exec roots, sshd files; COXSWAIN_HOME belongs at dir/home. */
  dir: string;
  /** Unix socket path of its dockerd. */
  dockerSocket: string;
  /** 'unix://' + dockerSocket, for DOCKER_HOST or docker -H. */
  dockerHost: string;
}

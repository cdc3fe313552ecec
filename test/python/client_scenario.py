"""A day's work with the official Kubernetes Python client against Coxswain.

Run by test/python-client.test.ts as `/usr/bin/python3 client_scenario.py KUBECONFIG NAMESPACE`.
Each step prints one JSON line {"step": ..., ...} with what a user would look at;
the TypeScript test asserts on those lines. Any exception ends the run with a
traceback on stderr and exit status 1.
"""
import json
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def say(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def main(kubeconfig, ns):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    say("version", gitVersion=client.VersionApi().get_code().git_version)

    # list
    say("list", nodes=[n.metadata.name for n in core.list_node().items],
        namespaces=[n.metadata.name for n in core.list_namespace().items])

    # create
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"mode": "quiet"}))
    container = client.V1Container(name="talker", image="busybox:1.36",
                                   command=["sh", "-c", "echo hello from python-made pod; exec sleep 3600"])
    template = client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "talker"}),
                                        spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=1))
    deployment = client.V1Deployment(metadata=client.V1ObjectMeta(name="talker"),
                                     spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels={"app": "talker"}), template=template))
    created = apps.create_namespaced_deployment(ns, deployment)
    say("create", deployment=created.metadata.name, uid=bool(created.metadata.uid))

    # watch (the client sends watch=True) until a pod of the Deployment runs
    w = watch.Watch()
    seen = []
    running = None
    for event in w.stream(core.list_namespaced_pod, ns, label_selector="app=talker", timeout_seconds=120):
        pod = event["object"]
        seen.append(event["type"])
        if pod.status.phase == "Running":
            running = pod.metadata.name
            w.stop()
    say("watch", types=sorted(set(seen)), running=running)

    # logs
    deadline = time.time() + 60
    text = ""
    while time.time() < deadline and "hello" not in text:
        text = core.read_namespaced_pod_log(running, ns, container="talker")
        if "hello" not in text:
            time.sleep(0.5)
    say("logs", text=text)

    # patch (a merge patch of a ConfigMap, and a strategic merge patch of the Deployment's labels)
    patched = core.patch_namespaced_config_map("settings", ns, {"data": {"mode": "loud", "extra": "1"}})
    dep = apps.patch_namespaced_deployment("talker", ns, {"metadata": {"labels": {"tier": "demo"}}})
    say("patch", data=patched.data, labels=dep.metadata.labels)

    # scale through the /scale subresource
    apps.patch_namespaced_deployment_scale("talker", ns, {"spec": {"replicas": 2}})
    scale = apps.read_namespaced_deployment_scale("talker", ns)
    deadline = time.time() + 120
    ready = 0
    while time.time() < deadline:
        ready = apps.read_namespaced_deployment("talker", ns).status.ready_replicas or 0
        if ready >= 2:
            break
        time.sleep(0.5)
    say("scale", specReplicas=scale.spec.replicas, readyReplicas=ready)

    # delete
    apps.delete_namespaced_deployment("talker", ns)
    core.delete_namespaced_config_map("settings", ns)
    try:
        core.read_namespaced_config_map("settings", ns)
        gone = None
    except ApiException as e:
        gone = e.status
    core.delete_namespace(ns)
    say("delete", configMapStatus=gone)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

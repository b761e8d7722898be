"""A local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) run as plain processes on loopback, from the binaries tools/engine/build.py
builds: the rehearsal's cluster, with no container runtime and no kubelet."""

"""The Pulumi program rendered under Pulumi's mocks (render.py: the program's unit tests and the
scanners read it), the services image's file tree (layout.py: the local node runs pods from it),
the twin's `bfdemo twin` entry point (the real engine's twin is rehearsal/kube/twin.py), and a
kubectl that runs the scenario's scripts against a local database (kubectl.py, for their tests)."""

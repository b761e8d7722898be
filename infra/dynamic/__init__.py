"""The program's own resources, as Pulumi dynamic providers run by the Python SDK itself.

A shell command and a generated secret are all the program needs beyond Kubernetes objects.
As dynamic providers they need no provider plugin to be downloaded or built: the engine runs
them in the project's virtualenv (`pulumi-resource-pulumi-python`, which ships with the SDK)."""

"""The cluster twin: the rendered Pulumi program run as processes on this machine."""

"""The laptop side: the local rehearsal on embedded PostgreSQL and its tools (`bfdemo`)."""

"""The scenario's dashboards rendered for a backend (Grafana), from scenarios/panels.py's data.
Outside scenarios/ because it needs Grafana's own builder; the services never import it."""

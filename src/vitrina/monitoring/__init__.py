"""Monitoring: Prometheus alert rules and Alertmanager/Grafana configs, embedded and distributed.

- `embedded`: configs + argv lists for Prometheus/Alertmanager on 127.0.0.1 (`vitrina up
  --monitoring`), and `firing_alerts` for the operator view;
- `alertmanager`: renders the distributed Alertmanager template from deploy-time values;
- `dashboards`: the Grafana dashboards as code;
- `promql`: which metrics an expression references (keeps rules and dashboards honest).
"""

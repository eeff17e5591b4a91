"""Client API package: routes, dependencies, query log, operator views."""

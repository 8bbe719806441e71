"""Process infrastructure: child processes, network namespaces, locating files, sim config."""

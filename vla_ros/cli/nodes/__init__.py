"""
The node executables (``ros2 run vla_ros NAME``): one module per node, each with ``main``.

setup.py's ``CONSOLE_SCRIPTS`` points at these; the node classes live in :mod:`vla_ros.nodes`
and the shared start / spin / stop sequence in :mod:`vla_ros.ros.spin`.
"""

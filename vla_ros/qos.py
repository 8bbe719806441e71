"""
Every QoS profile of vla_ros, in one place, each with why it is what it is.

Imported by nodes, CLI tools and tests alike (rclpy only, no node code).
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy

# Sensors (cameras, audio, tactile, joint states): best effort, keep last 5. A late sample is
# worth less than the next one, and a reliable camera stream would back up under load.
SENSOR_QOS = qos_profile_sensor_data

# Language commands, the e-stop and ~/status: rare, and a node or tool that starts later must
# still get the last one (a latched e-stop must hold a restarted policy): reliable +
# transient local, depth 1 (only the newest matters).
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)

# Controller commands: reliable (a dropped hold must not leave an old target standing) and
# depth 1 (a stale command queued behind a newer one is never wanted).
CONTROLLER_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                            durability=DurabilityPolicy.VOLATILE)

# Synchronized frames for recorders: reliable with a short queue (best effort would drop the
# large frames under load; a long queue would only add latency).
FRAME_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)

# Simulator command/clock topics: reliable, a few deep (no command may be dropped).
RELIABLE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)

# Recorders of non-sensor topics (controller commands, /sim/sound, ...): reliable and deep.
# A recorder writes to disk between callbacks; a burst (a chunk of trajectory points) must
# queue, not drop, or the bag loses the demonstration's actions.
RECORDER_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)

# The split (vla_policy remote <-> vla_inference): requests reliable, depth 1 (a frame queued
# behind a newer one is never wanted; large samples are fragmented over UDP and a lost
# fragment is resent, not the whole frame lost); chunks reliable, a few deep (one per request,
# N robots answered together). Volatile: a chunk from before a restart is never wanted.
REMOTE_FRAME_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.VOLATILE)
REMOTE_CHUNK_QOS = QoSProfile(depth=4, reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.VOLATILE)
